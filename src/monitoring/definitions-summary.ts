/**
 * Definitions of a monitoring summary's `figures` (docs/protocol.md, "Monitoring summaries"). The same figures
 * appear twice in a report: under `inbound.figures`, what we count at our border about the partner's operators
 * (and sign for the partner), and under `outbound.partnerSummary.figures`, what the partner signed about ours.
 * One table, worded for either side, keeps both readings the same.
 */
import type { FigureDefinition, Localised } from './figure-types.ts';

/** Who reports: `home` when we are the border side, `partner` when the partner is. */
export type Reporter = 'home' | 'partner';

interface Words {
  /** The reporting administration, the border side. */
  reporter: Localised;
  /** The operators the figures are about. */
  operators: Localised;
  /** Capitalised, to open a sentence. */
  Operators: Localised;
}

const WORDS: Readonly<Record<Reporter, Words>> = {
  home: {
    reporter: { en: 'this administration', es: 'esta administración' },
    operators: { en: 'the partner’s operators', es: 'los operadores de la contraparte' },
    Operators: { en: 'The partner’s operators', es: 'Operadores de la contraparte' },
  },
  partner: {
    reporter: { en: 'the partner administration', es: 'la administración contraparte' },
    operators: { en: 'our operators', es: 'nuestros operadores' },
    Operators: { en: 'Our operators', es: 'Nuestros operadores' },
  },
};

const SIZES: Localised = {
  en: 'by enterprise size on the day: SME (micro, small and medium), large, unknown (operator not held, or its record gives no size)',
  es: 'según el tamaño de empresa a esa fecha: pyme (micro, pequeña y mediana), grande, desconocido (operador no registrado o cuyo registro no indica tamaño)',
};

export function summaryFigureDefinitions(prefix: string, side: Reporter): FigureDefinition[] {
  const { reporter: r, operators: o, Operators: O } = WORDS[side];
  const figure = (id: string, label: Localised, definition: Localised): FigureDefinition => ({
    id: `${prefix}.${id}`,
    label,
    definition,
  });
  const received: Localised = {
    en: `Status records about ${o.en} received by ${r.en} during the period`,
    es: `Registros de estado de ${o.es} recibidos por ${r.es} durante el período`,
  };
  return [
    figure(
      'records.accepted',
      { en: 'Records accepted', es: 'Registros aceptados' },
      {
        en: `${received.en} and accepted: a new version applied.`,
        es: `${received.es} y aceptados: se aplicó una nueva versión.`,
      },
    ),
    figure(
      'records.duplicate',
      { en: 'Records already held', es: 'Registros ya recibidos' },
      {
        en: `${received.en} that were already held (the same record again; nothing changed).`,
        es: `${received.es} que ya se tenían (el mismo registro de nuevo; sin cambios).`,
      },
    ),
    figure(
      'records.superseded',
      { en: 'Records superseded', es: 'Registros sustituidos' },
      {
        en: `${received.en} and not applied because a later version of the operator was already held.`,
        es: `${received.es} y no aplicados porque ya se tenía una versión posterior del operador.`,
      },
    ),
    figure(
      'records.rejected',
      { en: 'Records rejected', es: 'Registros rechazados' },
      {
        en: `${received.en} and rejected, by the protocol’s rejection code.`,
        es: `${received.es} y rechazados, por código de rechazo del protocolo.`,
      },
    ),
    figure(
      'operators.recognised',
      { en: 'Operators recognised', es: 'Operadores reconocidos' },
      {
        en: `${O.en} recognised by ${r.en} on the last day of the period: certified, within the MRA’s programmes and roles, with the MRA in force.`,
        es: `${O.es} reconocidos por ${r.es} el último día del período: certificados, dentro de los programas y funciones del Acuerdo de Reconocimiento Mutuo y con el Acuerdo en vigor.`,
      },
    ),
    figure(
      'operators.byProgramme',
      { en: 'Recognised by programme', es: 'Reconocidos por programa' },
      {
        en: 'The operators recognised on the last day of the period by AEO programme: AEO-S, AEO-C, AEO-F.',
        es: 'Los operadores reconocidos el último día del período, según el programa OEA: AEO-S, AEO-C, AEO-F.',
      },
    ),
    figure(
      'operators.byRole',
      { en: 'Recognised by role', es: 'Reconocidos por función' },
      {
        en: 'The operators recognised on the last day of the period by supply-chain role; an operator with several roles counts once under each.',
        es: 'Los operadores reconocidos el último día del período, según su función en la cadena logística; un operador con varias funciones se cuenta una vez en cada una.',
      },
    ),
    figure(
      'operators.bySize',
      { en: 'Recognised by enterprise size', es: 'Reconocidos por tamaño de empresa' },
      {
        en: 'The operators recognised on the last day of the period by enterprise size: micro, small, medium, large; unknown: their record gives no size.',
        es: 'Los operadores reconocidos el último día del período, según el tamaño de empresa: micro, pequeña, mediana, grande; desconocido: su registro no indica tamaño.',
      },
    ),
    figure(
      'lookups.total',
      { en: 'Border lookups', es: 'Consultas en frontera' },
      {
        en: `Lookups of ${o.en} by the border systems of ${r.en} during the period, whatever the answer; each operator asked about counts once per lookup, also within a manifest.`,
        es: `Consultas sobre ${o.es} realizadas por los sistemas de frontera de ${r.es} durante el período, cualquiera que sea la respuesta; cada operador consultado cuenta una vez por consulta, también dentro de un manifiesto.`,
      },
    ),
    figure(
      'lookups.recognised',
      { en: 'Lookups answered recognised', es: 'Consultas con operador reconocido' },
      {
        en: 'Of the border lookups, those answered that the operator was recognised under the MRA at that moment.',
        es: 'De las consultas en frontera, aquellas cuya respuesta fue que el operador estaba reconocido en virtud del Acuerdo en ese momento.',
      },
    ),
    figure(
      'lookups.notRecognised',
      { en: 'Lookups answered not recognised', es: 'Consultas con operador no reconocido' },
      {
        en: 'Of the border lookups, those answered that the operator was not recognised, by reason: unknown (no operator held for the identifier), suspended, revoked, withdrawn, mra-not-in-force, out-of-scope (programme or role outside the MRA), ambiguous-identifier.',
        es: 'De las consultas en frontera, aquellas cuya respuesta fue que el operador no estaba reconocido, por motivo: unknown (ningún operador registrado con ese identificador), suspended (suspendido), revoked (revocado), withdrawn (retirado), mra-not-in-force (Acuerdo no vigente), out-of-scope (programa o función fuera del Acuerdo), ambiguous-identifier (identificador ambiguo).',
      },
    ),
    figure(
      'benefits[].applied',
      { en: 'Benefit applied', es: 'Beneficio aplicado' },
      {
        en: `Per benefit of the MRA: consignments of ${o.en} for which the border systems of ${r.en} reported the benefit applied during the period, ${SIZES.en}.`,
        es: `Por cada beneficio del Acuerdo: envíos de ${o.es} en los que los sistemas de frontera de ${r.es} informaron la aplicación del beneficio durante el período, ${SIZES.es}.`,
      },
    ),
    figure(
      'benefits[].refused',
      { en: 'Benefit refused', es: 'Beneficio denegado' },
      {
        en: `Per benefit of the MRA: consignments of ${o.en} for which the border systems of ${r.en} reported the benefit refused during the period, ${SIZES.en}.`,
        es: `Por cada beneficio del Acuerdo: envíos de ${o.es} en los que los sistemas de frontera de ${r.es} informaron la denegación del beneficio durante el período, ${SIZES.es}.`,
      },
    ),
    figure(
      'benefits[].refusalReasons',
      { en: 'Refusals by reason', es: 'Denegaciones por motivo' },
      {
        en: 'The refusals of the benefit by the reason code the border systems gave.',
        es: 'Las denegaciones del beneficio según el código de motivo indicado por los sistemas de frontera.',
      },
    ),
    figure(
      'latency.toReceiptMs',
      { en: 'Time to receipt', es: 'Tiempo hasta la recepción' },
      {
        en: `Time from the issuedAt of a record about ${o.en} to its receipt by ${r.en}, over the records received in the period: 50th, 95th and 99th percentiles, in milliseconds.`,
        es: `Tiempo transcurrido entre el issuedAt de un registro de ${o.es} y su recepción por ${r.es}, sobre los registros recibidos en el período: percentiles 50, 95 y 99, en milisegundos.`,
      },
    ),
    figure(
      'latency.toBorderMs',
      { en: 'Time to the border', es: 'Tiempo hasta la frontera' },
      {
        en: `Time from the issuedAt of a record about ${o.en} to the border systems of ${r.en} being notified of it, over the records received in the period: 50th, 95th and 99th percentiles, in milliseconds.`,
        es: `Tiempo transcurrido entre el issuedAt de un registro de ${o.es} y la notificación a los sistemas de frontera de ${r.es}, sobre los registros recibidos en el período: percentiles 50, 95 y 99, en milisegundos.`,
      },
    ),
  ];
}
