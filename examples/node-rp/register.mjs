// A ministry's pipeline registering its own service with sqin (OpenID
// Connect Dynamic Client Registration, RFC 7591) with openid-client, waiting
// for a privacy officer to approve it, then signing a citizen in with the
// credentials it got back (the same code as rp.mjs), and reading its
// registration with its registration access token (RFC 7592).
//
// The operator issues the initial access token for one PIA entry
// (`sqin client initial-access-token --pia-entry ...`, or the admin API's
// POST /initial-access-tokens); sqin refuses, naming the field, what
// the entry does not allow (a scope, a redirect URI's host, ...).
//
// On stdin/stdout, like rp.mjs:
//   it prints   REGISTERED <json>    client_id, registration_client_uri, status
//   it prints   APPROVED <json>      once its RFC 7592 read says "active"
//   it prints   AUTHORIZE <url>      then reads the callback URL, one line
//   it prints   RESULT <json>        what it validated and received
//   it prints   CONFIGURATION <json> its registration, read again (RFC 7592)
// Configuration (environment):
//   SQIN_ISSUER            e.g. http://localhost:8080
//   INITIAL_ACCESS_TOKEN   from the operator, for your PIA entry
//   REDIRECT_URI           on a host your PIA entry allows (http: loopback only)
//   SCOPE                  default "openid profile" (within the entry)
//   CLIENT_NAME, CLIENT_NAME_FR   shown to citizens on the consent page
//   APPROVAL_POLL_SECONDS  default 5; APPROVAL_TIMEOUT_SECONDS default 3600
import * as oidc from "openid-client";
import { setTimeout as sleep } from "node:timers/promises";
import { issuerOptions, signIn } from "./rp.mjs";

const { SQIN_ISSUER, INITIAL_ACCESS_TOKEN, REDIRECT_URI } = process.env;
const SCOPE = process.env.SCOPE || "openid profile";
const CLIENT_NAME = process.env.CLIENT_NAME || "Node.js example (dynamic registration)";
const CLIENT_NAME_FR = process.env.CLIENT_NAME_FR || "Exemple Node.js (enregistrement dynamique)";
const POLL_SECONDS = Number(process.env.APPROVAL_POLL_SECONDS || 5);
const TIMEOUT_SECONDS = Number(process.env.APPROVAL_TIMEOUT_SECONDS || 3600);
if (!SQIN_ISSUER || !INITIAL_ACCESS_TOKEN || !REDIRECT_URI) {
  console.error("set SQIN_ISSUER, INITIAL_ACCESS_TOKEN and REDIRECT_URI");
  process.exit(2);
}

// 1. Discovery and registration in one call: openid-client reads
// registration_endpoint from the discovery document (whose issuer must be
// exactly SQIN_ISSUER) and POSTs the metadata with the initial access token
// as a Bearer token. The Configuration it returns holds what sqin answered:
// client_id, client_secret, registration_access_token,
// registration_client_uri. `ClientSecretBasic()` with no argument uses the
// client_secret sqin issued.
const config = await oidc.dynamicClientRegistration(
  new URL(SQIN_ISSUER),
  {
    redirect_uris: [REDIRECT_URI],
    client_name: CLIENT_NAME,
    "client_name#fr": CLIENT_NAME_FR,
    scope: SCOPE,
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    id_token_signed_response_alg: "ES256",
  },
  oidc.ClientSecretBasic(),
  { ...issuerOptions(SQIN_ISSUER), initialAccessToken: INITIAL_ACCESS_TOKEN },
);
const registered = config.clientMetadata();
// The secret and the registration access token are shown once: a real
// pipeline puts them in its secret store here, never in a log.
console.log(
  `REGISTERED ${JSON.stringify({
    client_id: registered.client_id,
    registration_client_uri: registered.registration_client_uri,
    sqin_pia_entry: registered.sqin_pia_entry,
    sqin_status: registered.sqin_status,
    sqin_approval_request: registered.sqin_approval_request,
  })}`,
);

// RFC 7592 2.1: the client's current registration, with the registration
// access token as a Bearer token.
async function readConfiguration() {
  const response = await oidc.fetchProtectedResource(
    config,
    registered.registration_access_token,
    new URL(registered.registration_client_uri),
    "GET",
  );
  if (!response.ok) {
    throw new Error(`RFC 7592 read: ${response.status} ${await response.text()}`);
  }
  return response.json();
}

// 2. A new client is pending until a privacy officer approves it (its
// credentials do not work before): ask its registration until it is active.
const deadline = Date.now() + TIMEOUT_SECONDS * 1000;
let current = await readConfiguration();
while (current.sqin_status === "pending") {
  if (Date.now() > deadline) {
    console.error(`still pending after ${TIMEOUT_SECONDS} s: ask your privacy officer`);
    process.exit(3);
  }
  await sleep(POLL_SECONDS * 1000);
  current = await readConfiguration();
}
if (current.sqin_status !== "active") {
  console.error(`the registration is ${current.sqin_status}, not active`);
  process.exit(3);
}
console.log(
  `APPROVED ${JSON.stringify({ client_id: current.client_id, sqin_status: current.sqin_status })}`,
);

// 3. The sign-in flow of rp.mjs, with the registered configuration.
const result = await signIn(config, { redirectUri: REDIRECT_URI, scope: SCOPE });
console.log(`RESULT ${JSON.stringify(result)}`);

// 4. The registration access token still reads the registration.
console.log(`CONFIGURATION ${JSON.stringify(await readConfiguration())}`);
