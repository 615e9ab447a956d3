// Minimal typings for the two test-only packages used by dicomweb-client.test.ts.
declare module 'dicomweb-client' {
  export namespace api {
    class DICOMwebClient {
      constructor(opts: { url: string; headers?: Record<string, string>; verbose?: boolean });
      searchForStudies(opts?: { queryParams?: Record<string, string> }): Promise<Record<string, { vr: string; Value?: unknown[] }>[]>;
      searchForSeries(opts: { studyInstanceUID: string; queryParams?: Record<string, string> }): Promise<Record<string, { vr: string; Value?: unknown[] }>[]>;
      searchForInstances(opts: { studyInstanceUID: string; seriesInstanceUID?: string }): Promise<Record<string, { vr: string; Value?: unknown[] }>[]>;
      retrieveInstance(opts: { studyInstanceUID: string; seriesInstanceUID: string; sopInstanceUID: string }): Promise<ArrayBuffer>;
      retrieveSeries(opts: { studyInstanceUID: string; seriesInstanceUID: string }): Promise<ArrayBuffer[]>;
      retrieveSeriesMetadata(opts: { studyInstanceUID: string; seriesInstanceUID: string }): Promise<Record<string, { vr: string; Value?: unknown[] }>[]>;
      storeInstances(opts: { datasets: ArrayBuffer[]; studyInstanceUID?: string }): Promise<unknown>;
    }
  }
}
declare module 'xhr2' {
  const XMLHttpRequest: new () => unknown;
  export default XMLHttpRequest;
}
