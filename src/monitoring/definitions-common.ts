/** Definitions of the report's figures that are neither direction's: the MRA's terms and the daily series. */
import type { FigureDefinition } from './figure-types.ts';

export const MRA_FIGURES: readonly FigureDefinition[] = [
  {
    id: 'mraTerms',
    label: { en: 'Terms of the MRA', es: 'Términos del Acuerdo' },
    definition: {
      en: 'Every version of the MRA’s terms configured at this gateway that was in force at some moment of the period, from the time the gateway first ran with it; the SHA-256 of the canonical terms lets both administrations check that they configured the same terms.',
      es: 'Cada versión de los términos del Acuerdo de Reconocimiento Mutuo configurada en esta pasarela y vigente en algún momento del período, desde que la pasarela comenzó a aplicarla; el SHA-256 de los términos canónicos permite a ambas administraciones comprobar que configuraron los mismos términos.',
    },
  },
];

export const DAILY_FIGURES: readonly FigureDefinition[] = [
  {
    id: 'daily[].recordsReceived',
    label: { en: 'Records received', es: 'Registros recibidos' },
    definition: {
      en: 'Status records received from the partner on that UTC day.',
      es: 'Registros de estado recibidos de la contraparte en ese día (UTC).',
    },
  },
  {
    id: 'daily[].recordsPublished',
    label: { en: 'Records published', es: 'Registros publicados' },
    definition: {
      en: 'Status records queued for delivery to the partner on that UTC day.',
      es: 'Registros de estado puestos en cola de entrega a la contraparte en ese día (UTC).',
    },
  },
  {
    id: 'daily[].lookups',
    label: { en: 'Border lookups', es: 'Consultas en frontera' },
    definition: {
      en: 'Lookups of the partner’s operators by our border systems on that UTC day.',
      es: 'Consultas sobre operadores de la contraparte realizadas por nuestros sistemas de frontera en ese día (UTC).',
    },
  },
  {
    id: 'daily[].lookupsRecognised',
    label: { en: 'Lookups answered recognised', es: 'Consultas con operador reconocido' },
    definition: {
      en: 'Of that day’s lookups, those answered that the operator was recognised.',
      es: 'De las consultas de ese día, aquellas cuya respuesta fue que el operador estaba reconocido.',
    },
  },
  {
    id: 'daily[].benefitsApplied',
    label: { en: 'Benefits applied', es: 'Beneficios aplicados' },
    definition: {
      en: 'Reports by our border systems of a benefit applied to one of the partner’s operators on that UTC day, all benefits and sizes together.',
      es: 'Informes de nuestros sistemas de frontera sobre un beneficio aplicado a un operador de la contraparte en ese día (UTC), todos los beneficios y tamaños en conjunto.',
    },
  },
  {
    id: 'daily[].benefitsRefused',
    label: { en: 'Benefits refused', es: 'Beneficios denegados' },
    definition: {
      en: 'Reports by our border systems of a benefit refused to one of the partner’s operators on that UTC day, all benefits and sizes together.',
      es: 'Informes de nuestros sistemas de frontera sobre un beneficio denegado a un operador de la contraparte en ese día (UTC), todos los beneficios y tamaños en conjunto.',
    },
  },
];
