// The one typed configuration schema. Every key has a default here; docs/configuration.md
// documents each of them (a test checks that every key path below appears there).
import type { Secret } from '../core/secret.ts';
import { defaultNotifications, type NotificationsConfig } from './read-notifications.ts';

export interface PeerConfig {
  /** AE title of the remote node. */
  aet: string;
  host: string;
  port: number;
}

export interface DicomConfig {
  /** Our AE title (called AE that peers must use). */
  aet: string;
  /** DICOM port; 0 picks a free port. */
  port: number;
  /** Longest P-DATA PDU we accept; also what we advertise. */
  maxPduLength: number;
  /** Seconds to wait for an A-ASSOCIATE-RQ / A-RELEASE-RP (PS3.8 ARTIM). */
  artimTimeoutSeconds: number;
  /** Seconds without any PDU before the association is aborted. */
  idleTimeoutSeconds: number;
  /** Associations served at once; more are rejected (transient, local limit exceeded). */
  maxAssociations: number;
  /** Calling AE titles allowed to associate; empty allows any. */
  allowedCallingAets: string[];
  /** Storage SOP Class UIDs accepted; empty accepts any storage SOP class. */
  storageSopClasses: string[];
  /** Known peers, destinations of C-MOVE and of `send`. */
  peers: PeerConfig[];
  /**
   * With authentication on, which peers may associate without a user identity: `known` (calling AE in
   * allowedCallingAets or peers) or `any` (the calling AE is not checked). Ignored with auth off (--dev).
   */
  unauthenticatedPeers: 'known' | 'any';
}

export interface IntakeConfig {
  /** Called AE title that peers send to; must differ from dicom.aet. */
  aet: string;
  /** De-identification project applied to everything arriving there (e.g. basic, longitudinal). */
  project: string;
  /** Calling AE titles allowed to send to this intake; absent or empty: as for dicom.aet. */
  allowedCallingAets?: string[];
}

export interface WatchFolderConfig {
  /** Folder polled for dropped files (absolute after loading); created at start-up if missing. */
  path: string;
  /** De-identification project applied to every file taken (gateway); absent: stored as it is. */
  project?: string;
  /** Seconds between polls (fractions allowed). */
  pollSeconds: number;
  /** A file is taken once its size and mtime have not changed for this long (never half-copied). */
  settleSeconds: number;
  /** What happens to a file once stored: moved under <path>/.done/<date>/ or deleted. */
  after: 'move' | 'delete';
}

export interface HttpConfig {
  /** HTTP port; 0 picks a free port. */
  port: number;
  /** Trust X-Forwarded-* from a reverse proxy (client address for audit and rate limits, https for cookies). */
  trustProxy: boolean;
  /** Largest POST /instances body in MiB (STOW streams and has no such limit). */
  uploadLimitMiB: number;
  /** Project used by POST /{level}/{id}/anonymize when the body names none. */
  defaultAnonymizeProject: string;
  /** PEM certificate file; with tlsKeyFile, serve HTTPS. */
  tlsCertFile: string | null;
  /** PEM private key file. */
  tlsKeyFile: string | null;
}

export interface OidcConfig {
  /** Issuer URL (e.g. https://keycloak.example.org/realms/research); null turns OIDC login off. */
  issuer: string | null;
  clientId: string;
  /** Secret reference ("env:NAME" / "file:/path"), or null for a public client. */
  clientSecret: Secret | null;
  /** This server's callback URL as registered at the provider: https://host/auth/oidc/callback */
  redirectUri: string;
  /** Dotted path of the roles claim. */
  rolesClaim: string;
  /** Only roles with this prefix count, the prefix removed ("dicomgate-researcher" -> researcher). */
  rolePrefix: string;
  /** Dotted path of a claim listing project names, or null. */
  projectsClaim: string | null;
  usernameClaim: string;
  /** Where the browser lands after login. */
  afterLogin: string;
  /** Text of the login button. */
  label: string;
}

export interface StorageConfig {
  /** What a second instance with a known SOP Instance UID does. */
  duplicates: 'keep-first' | 'overwrite';
}

export interface IndexConfig {
  /** 'sqlite' keeps the index in <dataDir>/index.sqlite and keys in keys.sqlite; 'postgres' keeps both in `postgres.url`. */
  kind: 'sqlite' | 'postgres';
}

export interface PostgresConfig {
  /** Connection string as a secret reference, e.g. "env:DICOMGATE_PG_URL". */
  url: Secret | null;
  /** Schema holding dicomgate's archive index tables. */
  schema: string;
  /** Schema holding the pseudonym key database (kept apart from the index so it can be secured apart). */
  keysSchema: string;
}

export interface AuthConfig {
  /** Require login on every HTTP route and user identity on DIMSE. Off only with --dev. */
  enabled: boolean;
  /** Lifetime of a UI login session. */
  sessionHours: number;
  /** Failed logins (per address and user) before further attempts wait. */
  loginMaxFailures: number;
  /** Window in which failed logins are counted. */
  loginWindowSeconds: number;
  /** Pseudo-project on a user's project list that grants archive data stored without a project. */
  archiveProject: string;
  oidc: OidcConfig;
}

export interface JobsConfig {
  /** Items sent at once per route destination (each destination has its own queue and workers). */
  concurrency: number;
  /** A job whose worker stops renewing its lease for this long is taken back (crashed node). */
  leaseSeconds: number;
  /** Tries of a route job before it becomes a dead letter (Failure, retryable by hand). */
  maxAttempts: number;
  /** First retry delay; doubles per attempt (with ±20 % jitter) up to backoffMaxSeconds. */
  backoffInitialSeconds: number;
  backoffMaxSeconds: number;
}

/** Where pipeline routes send: a DICOM peer (C-STORE), a DICOMweb server (STOW-RS), a folder. */
export type DestinationConfig =
  | { kind: 'dicom'; aet: string; host: string; port: number }
  | { kind: 'dicomweb'; url: string; auth?: { kind: 'basic'; username: string; secret: Secret } | { kind: 'bearer'; secret: Secret } }
  | { kind: 'folder'; root: string; template: string; dicomdir?: boolean };

export interface LogConfig {
  level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export interface ResolvedConfig {
  /** Folder holding the index, the blobs and the key database. */
  dataDir: string;
  /** Address the DICOM and HTTP servers bind to. */
  host: string;
  /** Development mode: authentication off, verbose errors. */
  dev: boolean;
  dicom: DicomConfig;
  /** Gateway intakes: called AE titles whose objects are de-identified before they reach the archive. */
  intakes: IntakeConfig[];
  /** Folder-watch intakes: drop folders polled by `serve` (src/services/folder-watch.ts). */
  watchFolders: WatchFolderConfig[];
  http: HttpConfig;
  storage: StorageConfig;
  index: IndexConfig;
  postgres: PostgresConfig;
  auth: AuthConfig;
  log: LogConfig;
  /** De-identification projects by name (see docs/configuration.md); validated by the deid module. */
  projects: Record<string, unknown>;
  /** Quiet period (no new instance) after which a study or series is stable (Orthanc StableAge). */
  stableAgeSeconds: number;
  /** The persistent job engine behind routes. */
  jobs: JobsConfig;
  /** Route destinations by name. */
  destinations: Record<string, DestinationConfig>;
  /** Pipelines by name (intake -> filters -> deid -> store -> routes); compiled by src/pipeline at start-up. */
  pipelines: Record<string, unknown>;
  /** Study-done / job-failed notifications by webhook and e-mail (src/notify); each channel optional. */
  notifications: NotificationsConfig;
}

/** Defaults; `npm start` runs on exactly these. */
export function defaultConfig(): ResolvedConfig {
  return {
    dataDir: './data',
    host: '0.0.0.0',
    dev: false,
    dicom: {
      aet: 'DICOMGATE',
      port: 4242,
      maxPduLength: 262144,
      artimTimeoutSeconds: 30,
      idleTimeoutSeconds: 300,
      maxAssociations: 64,
      allowedCallingAets: [],
      storageSopClasses: [],
      peers: [],
      unauthenticatedPeers: 'known',
    },
    intakes: [],
    watchFolders: [],
    http: { port: 8042, trustProxy: false, uploadLimitMiB: 1024, defaultAnonymizeProject: 'basic', tlsCertFile: null, tlsKeyFile: null },
    storage: { duplicates: 'keep-first' },
    index: { kind: 'sqlite' },
    postgres: { url: null, schema: 'dicomgate', keysSchema: 'dicomgate_keys' },
    auth: {
      enabled: true,
      sessionHours: 12,
      loginMaxFailures: 5,
      loginWindowSeconds: 900,
      archiveProject: 'archive',
      oidc: {
        issuer: null,
        clientId: '',
        clientSecret: null,
        redirectUri: '',
        rolesClaim: 'realm_access.roles',
        rolePrefix: 'dicomgate-',
        projectsClaim: null,
        usernameClaim: 'preferred_username',
        afterLogin: '/ui/',
        label: 'single sign-on',
      },
    },
    log: { level: 'info' },
    projects: {},
    stableAgeSeconds: 60,
    jobs: { concurrency: 2, leaseSeconds: 30, maxAttempts: 40, backoffInitialSeconds: 1, backoffMaxSeconds: 300 },
    destinations: {},
    pipelines: {},
    notifications: defaultNotifications(),
  };
}
