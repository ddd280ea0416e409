/**
 * Definitions of the report's `inbound` figures beside the summary's own (definitions-summary.ts): the
 * partner's operators as this gateway holds them, and how fresh its view is.
 */
import type { FigureDefinition } from './figure-types.ts';

export const INBOUND_FIGURES: readonly FigureDefinition[] = [
  {
    id: 'inbound.operators.held',
    label: { en: 'Partner operators held', es: 'Operadores de la contraparte registrados' },
    definition: {
      en: 'Operators of the partner whose records this gateway holds at the end of the period, whatever their status.',
      es: 'Operadores de la contraparte cuyos registros de estado conserva esta pasarela al cierre del período, cualquiera que sea su estado.',
    },
  },
  {
    id: 'inbound.operators.byStatus',
    label: { en: 'Partner operators by status', es: 'Operadores de la contraparte por estado' },
    definition: {
      en: 'The partner’s operators held at the end of the period by the AEO status of their latest version: certified, suspended, revoked or withdrawn.',
      es: 'Los operadores de la contraparte registrados al cierre del período, según el estado OEA de su última versión: certificado, suspendido, revocado o retirado.',
    },
  },
  {
    id: 'inbound.statusChanges',
    label: { en: 'Status changes received', es: 'Cambios de estado recibidos' },
    definition: {
      en: 'Versions received from the partner and accepted during the period whose status differs from the version held before (or that are an operator’s first version), by the new status.',
      es: 'Versiones recibidas de la contraparte y aceptadas durante el período cuyo estado difiere del de la versión anterior (o que son la primera versión de un operador), según el nuevo estado.',
    },
  },
  {
    id: 'inbound.freshness.lastReceiptAt',
    label: { en: 'Last batch received', es: 'Último lote recibido' },
    definition: {
      en: 'When the partner last pushed a batch of records to this gateway and was answered with a signed receipt: a moment, not limited to the period.',
      es: 'Momento en que la contraparte envió por última vez un lote de registros a esta pasarela y recibió un acuse de recibo firmado; no se limita al período.',
    },
  },
  {
    id: 'inbound.freshness.lastPulledAt',
    label: { en: 'Last feed read', es: 'Última lectura del feed' },
    definition: {
      en: 'When this gateway last read the partner’s feed successfully: a moment, not limited to the period.',
      es: 'Momento en que esta pasarela leyó con éxito por última vez el feed de la contraparte; no se limita al período.',
    },
  },
  {
    id: 'inbound.freshness.lastReconciliation',
    label: { en: 'Last reconciliation', es: 'Última conciliación' },
    definition: {
      en: 'When this gateway last compared its state with the partner’s snapshot, and whether both agreed (in sync) or differences were found and repaired.',
      es: 'Momento en que esta pasarela comparó por última vez su estado con la instantánea de la contraparte, y si ambos coincidían (sincronizados) o se hallaron y corrigieron diferencias.',
    },
  },
  {
    id: 'inbound.summaryIssued',
    label: { en: 'Our signed summary', es: 'Nuestro resumen firmado' },
    definition: {
      en: 'The latest revision of the monitoring summary this administration signed for the partner for exactly this period, if issued. Its figures are those signed at the time; later events can change the figures computed now.',
      es: 'La última revisión del resumen de seguimiento que esta administración firmó para la contraparte para este mismo período, si se emitió. Sus cifras son las firmadas en ese momento; hechos posteriores pueden modificar las cifras calculadas ahora.',
    },
  },
];
