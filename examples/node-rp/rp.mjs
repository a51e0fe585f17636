// A ministry's back end in Node.js signing a citizen in through sqin with
// openid-client (OpenID Certified): discovery, authorization code flow with
// PKCE S256, state and nonce, ID token validation (ES256, iss, aud, exp,
// nonce, at_hash), userinfo with the sub checked.
//
// There is no browser here, so the script speaks on stdin/stdout:
//   it prints   AUTHORIZE <url>      the URL to send the citizen's browser to
//   it reads    <callback URL>       one line: where sqin sent the browser back
//   it prints   RESULT <json>        what it validated and received
// Configuration (environment):
//   SQIN_ISSUER      e.g. http://localhost:8080
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URI (as registered with `sqin client add`)
//   SCOPE            default "openid profile"
//
// register.mjs registers a client dynamically (RFC 7591) and then signs in
// with the same `signIn` below.
import * as oidc from "openid-client";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

// Plain http is allowed for a loopback issuer only (local demo and tests);
// a real deployment is https and needs no option.
export function issuerOptions(issuer) {
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(new URL(issuer).hostname);
  return loopback ? { execute: [oidc.allowInsecureRequests] } : {};
}

// One line of stdin (here, the callback URL the browser came back to).
export async function readLine() {
  const lines = createInterface({ input: process.stdin });
  const line = await new Promise((resolve, reject) => {
    lines.once("line", resolve);
    lines.once("close", () => reject(new Error("stdin closed before a line")));
  });
  lines.close();
  return line.trim();
}

// Steps 2 to 4 of the flow, for a discovered (or registered) configuration;
// what it validated and received.
export async function signIn(config, { redirectUri, scope }) {
  // 2. The authorization URL: PKCE S256, state and nonce, kept for the
  // callback (a web app keeps them in its session).
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ui_locales: "fr",
  });
  console.log(`AUTHORIZE ${url.href}`);

  // 3. The callback: openid-client checks state and iss (RFC 9207),
  // exchanges the code with the PKCE verifier, and validates the ID token.
  const callback = await readLine();
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();

  // 4. Userinfo, bound to the ID token's sub (a mismatch throws).
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);

  const header = JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url").toString());
  return {
    id_token_alg: header.alg,
    id_token_kid: header.kid,
    claims,
    userinfo,
    scope: tokens.scope,
    token_type: tokens.token_type,
  };
}

async function main() {
  const { SQIN_ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
  const SCOPE = process.env.SCOPE || "openid profile";
  if (!SQIN_ISSUER || !CLIENT_ID || !CLIENT_SECRET || !REDIRECT_URI) {
    console.error("set SQIN_ISSUER, CLIENT_ID, CLIENT_SECRET and REDIRECT_URI");
    process.exit(2);
  }

  // 1. Discovery: the issuer in the document must be exactly SQIN_ISSUER.
  const config = await oidc.discovery(
    new URL(SQIN_ISSUER),
    CLIENT_ID,
    { client_secret: CLIENT_SECRET, id_token_signed_response_alg: "ES256" },
    oidc.ClientSecretBasic(CLIENT_SECRET),
    issuerOptions(SQIN_ISSUER),
  );

  const result = await signIn(config, { redirectUri: REDIRECT_URI, scope: SCOPE });
  console.log(`RESULT ${JSON.stringify(result)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
