/**
 * Definitions of the report's `outbound` figures: our operators, published to the partner. Periods are UTC
 * days, both ends included (from 00:00:00 UTC of the first day to the end of the last).
 */
import type { FigureDefinition } from './figure-types.ts';

export const OUTBOUND_FIGURES: readonly FigureDefinition[] = [
  {
    id: 'outbound.register.operators',
    label: { en: 'Operators in the national register', es: 'Operadores en el registro nacional' },
    definition: {
      en: 'Operators in the national AEO register at the end of the period (at the time of the report when the period has not ended), whatever their status and consent.',
      es: 'Operadores inscritos en el registro nacional de Operadores Económicos Autorizados al cierre del período (al momento del informe si el período no ha concluido), cualquiera que sea su estado o consentimiento.',
    },
  },
  {
    id: 'outbound.register.consenting',
    label: { en: 'Operators consenting to the exchange', es: 'Operadores que consienten el intercambio' },
    definition: {
      en: 'Of the operators in the register, those whose latest decision gives their consent to the exchange of their data with partner administrations. Only these are ever published.',
      es: 'De los operadores del registro, aquellos cuya última decisión otorga su consentimiento para el intercambio de sus datos con las administraciones contraparte. Solo estos se publican.',
    },
  },
  {
    id: 'outbound.register.byStatus',
    label: { en: 'Register by status', es: 'Registro por estado' },
    definition: {
      en: 'Operators in the register by the AEO status of their current version: certified, suspended, revoked or withdrawn.',
      es: 'Operadores del registro según el estado OEA de su versión vigente: certificado, suspendido, revocado o retirado.',
    },
  },
  {
    id: 'outbound.register.byProgramme',
    label: { en: 'Register by programme', es: 'Registro por programa' },
    definition: {
      en: 'Operators in the register by AEO programme: AEO-S (security and safety), AEO-C (customs simplifications), AEO-F (both).',
      es: 'Operadores del registro según el programa OEA: AEO-S (protección y seguridad), AEO-C (simplificaciones aduaneras), AEO-F (ambos).',
    },
  },
  {
    id: 'outbound.register.byRole',
    label: { en: 'Register by role', es: 'Registro por función' },
    definition: {
      en: 'Operators in the register by supply-chain role. An operator with several roles counts once under each, so the roles add up to more than the operators.',
      es: 'Operadores del registro según su función en la cadena logística. Un operador con varias funciones se cuenta una vez en cada una, por lo que la suma puede superar el número de operadores.',
    },
  },
  {
    id: 'outbound.register.bySize',
    label: { en: 'Register by enterprise size', es: 'Registro por tamaño de empresa' },
    definition: {
      en: 'Operators in the register by the enterprise size in their current version: micro, small, medium, large; unknown: the register gives no size.',
      es: 'Operadores del registro según el tamaño de empresa de su versión vigente: micro, pequeña, mediana, grande; desconocido: el registro no indica tamaño.',
    },
  },
  {
    id: 'outbound.register.publishedToPartner',
    label: { en: 'Operators published to the partner', es: 'Operadores publicados a la contraparte' },
    definition: {
      en: 'Operators with at least one record published to this partner at any time up to the end of the period, that is within the MRA’s programmes and roles and with consent.',
      es: 'Operadores con al menos un registro de estado publicado a esta contraparte en cualquier momento hasta el cierre del período, es decir, dentro de los programas y funciones del Acuerdo y con consentimiento.',
    },
  },
  {
    id: 'outbound.records.published',
    label: { en: 'Records published', es: 'Registros de estado publicados' },
    definition: {
      en: 'Status records (one signed version of one operator) queued for delivery to this partner during the period. A record sent to several partners counts once in each partner’s report.',
      es: 'Registros de estado (una versión firmada de un operador) puestos en cola de entrega a esta contraparte durante el período. Un registro enviado a varias contrapartes se cuenta una vez en el informe de cada una.',
    },
  },
  {
    id: 'outbound.records.byStatus',
    label: { en: 'Records published by status', es: 'Registros publicados por estado' },
    definition: {
      en: 'The records published in the period by the AEO status they carry.',
      es: 'Los registros publicados en el período según el estado OEA que comunican.',
    },
  },
  {
    id: 'outbound.deliveries.delivered',
    label: { en: 'Delivered', es: 'Entregados' },
    definition: {
      en: 'Of the records published in the period, those the partner’s gateway has acknowledged with a verified signed receipt, up to the time of the report.',
      es: 'De los registros publicados en el período, aquellos cuya recepción la pasarela de la contraparte ha confirmado con un acuse de recibo firmado y verificado, hasta el momento del informe.',
    },
  },
  {
    id: 'outbound.deliveries.retried',
    label: { en: 'Needed more than one attempt', es: 'Con más de un intento' },
    definition: {
      en: 'Of the records published in the period, those whose delivery needed more than one attempt, whether delivered in the end or not.',
      es: 'De los registros publicados en el período, aquellos cuya entrega requirió más de un intento, se hayan entregado finalmente o no.',
    },
  },
  {
    id: 'outbound.deliveries.dead',
    label: { en: 'Given up (dead letters)', es: 'Entregas abandonadas' },
    definition: {
      en: 'Of the records published in the period, those whose delivery was given up after the last attempt allowed. They wait for the gateway’s operators to act.',
      es: 'De los registros publicados en el período, aquellos cuya entrega se abandonó tras el último intento permitido. Quedan a la espera de intervención del personal a cargo de la pasarela.',
    },
  },
  {
    id: 'outbound.deliveries.backlog',
    label: { en: 'Waiting for delivery now', es: 'Pendientes de entrega ahora' },
    definition: {
      en: 'Records for this partner pending or waiting for a retry at the time of the report, whatever the day they were published: a figure of the moment, not of the period.',
      es: 'Registros para esta contraparte pendientes o a la espera de un nuevo intento al momento del informe, cualquiera que sea el día de su publicación: una cifra del momento, no del período.',
    },
  },
  {
    id: 'outbound.deliveries.outcomes.accepted',
    label: { en: 'Accepted by the partner', es: 'Aceptados por la contraparte' },
    definition: {
      en: 'Records published in the period that the partner’s signed receipt reports as accepted: the partner applied the new version.',
      es: 'Registros publicados en el período que el acuse de recibo firmado de la contraparte declara aceptados: la contraparte aplicó la nueva versión.',
    },
  },
  {
    id: 'outbound.deliveries.outcomes.duplicate',
    label: { en: 'Duplicate at the partner', es: 'Duplicados en la contraparte' },
    definition: {
      en: 'Records published in the period that the partner’s receipt reports as duplicate: the partner already held that very record.',
      es: 'Registros publicados en el período que el acuse de recibo de la contraparte declara duplicados: la contraparte ya tenía ese mismo registro.',
    },
  },
  {
    id: 'outbound.deliveries.outcomes.superseded',
    label: { en: 'Superseded at the partner', es: 'Sustituidos en la contraparte' },
    definition: {
      en: 'Records published in the period that the partner’s receipt reports as superseded: the partner already held a later version of the operator.',
      es: 'Registros publicados en el período que el acuse de recibo de la contraparte declara sustituidos: la contraparte ya tenía una versión posterior del operador.',
    },
  },
  {
    id: 'outbound.deliveries.outcomes.rejected',
    label: { en: 'Rejected by the partner', es: 'Rechazados por la contraparte' },
    definition: {
      en: 'Records published in the period that the partner’s receipt reports as rejected, by the protocol’s rejection code (for example SIGNATURE_INVALID, CERT_UNTRUSTED).',
      es: 'Registros publicados en el período que el acuse de recibo de la contraparte declara rechazados, por código de rechazo del protocolo (por ejemplo, SIGNATURE_INVALID, CERT_UNTRUSTED).',
    },
  },
  {
    id: 'outbound.latency.toReceiptMs',
    label: { en: 'Time to the partner’s receipt', es: 'Tiempo hasta el acuse de la contraparte' },
    definition: {
      en: 'Time from a record’s issuedAt (when it was signed) to the partner’s verified receipt for it, over the records of the period that have a receipt: 50th, 95th and 99th percentiles and the number of records measured. Not known when no record has a receipt.',
      es: 'Tiempo transcurrido entre el issuedAt de un registro (su firma) y el acuse de recibo verificado de la contraparte, sobre los registros del período que tienen acuse: percentiles 50, 95 y 99 y número de registros medidos. No disponible si ningún registro tiene acuse.',
    },
  },
  {
    id: 'outbound.partnerSummary',
    label: { en: 'The partner’s signed summary', es: 'Resumen firmado de la contraparte' },
    definition: {
      en: 'The latest revision of the monitoring summary the partner signed about our operators for exactly this period, as received. Its figures are the partner’s own, unchanged; the digest identifies the signed evidence.',
      es: 'La última revisión del resumen de seguimiento que la contraparte firmó sobre nuestros operadores para este mismo período, tal como se recibió. Sus cifras son las de la contraparte, sin modificación; el resumen criptográfico identifica la evidencia firmada.',
    },
  },
];
