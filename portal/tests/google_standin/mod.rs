//! A stand-in for Google's side of Chrome Verified Access, built from Google's documentation:
//! the service-account token endpoint (it checks the RS256 JWT with the account's public key,
//! its audience and scope) and the Verified Access API v2 (`challenge:generate` hands out
//! challenges; `challenge:verify` accepts only an answer to a challenge it issued, once, with
//! the expected identity, and names the device and its customer). The Chromebook is played by
//! [`answer`]: the stand-in device signs as `<device>|<challenge>`. A real TPM-signed answer
//! and Google's checks of it cannot be exercised here.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use quickcard_portal::domain::device_binding::VerifiedAccessConfig;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::Verifier;
use serde_json::{Value, json};
use sha2::Sha256;

/// The district's Google customer id in the stand-in.
pub const CUSTOMER: &str = "C0district";
/// A district Chromebook the stand-in knows.
pub const DISTRICT_DEVICE: &str = "5CD-LINCOLN-01";
/// A Chromebook of another Google customer.
pub const FOREIGN_DEVICE: &str = "5CD-ELSEWHERE";
const TOKEN: &str = "ya29.stand-in-token";

/// Google's side, as documented.
#[derive(Clone)]
pub struct Google {
    public: rsa::RsaPublicKey,
    pub base: String,
    pub token_uri: String,
    pub issued: Arc<Mutex<HashSet<String>>>,
    pub used: Arc<Mutex<HashSet<String>>>,
    /// Devices the stand-in knows: the answer's device name → its customer id.
    pub customers: Arc<HashMap<String, String>>,
    pub verify_calls: Arc<Mutex<Vec<Value>>>,
}

fn bearer_ok(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

async fn token(State(g): State<Google>, body: String) -> (StatusCode, Json<Value>) {
    let form: HashMap<String, String> = body
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect();
    let refuse = |m: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": m})));
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return refuse("unsupported_grant_type");
    }
    let Some(jwt) = form.get("assertion") else {
        return refuse("invalid_request");
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, c, s] = parts[..] else {
        return refuse("invalid_grant");
    };
    let sig = Signature::try_from(URL_SAFE_NO_PAD.decode(s).unwrap().as_slice()).unwrap();
    let key = VerifyingKey::<Sha256>::new(g.public.clone());
    if key.verify(format!("{h}.{c}").as_bytes(), &sig).is_err() {
        return refuse("invalid_grant: bad signature");
    }
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).unwrap()).unwrap();
    if header["alg"] != "RS256"
        || claims["aud"] != g.token_uri.as_str()
        || claims["iss"] != "quickcard@district-project.iam.gserviceaccount.com"
        || claims["scope"] != "https://www.googleapis.com/auth/verifiedaccess"
        || claims["exp"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap()
    {
        return refuse("invalid_grant: claims");
    }
    (
        StatusCode::OK,
        Json(json!({"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"})),
    )
}

async fn generate(State(g): State<Google>, h: HeaderMap) -> (StatusCode, Json<Value>) {
    if !bearer_ok(&h) {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    let mut issued = g.issued.lock().unwrap();
    let c = STANDARD.encode(format!("challenge-{}", issued.len()));
    issued.insert(c.clone());
    (StatusCode::OK, Json(json!({ "challenge": c })))
}

async fn verify(
    State(g): State<Google>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !bearer_ok(&h) {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    g.verify_calls.lock().unwrap().push(body.clone());
    let bad = || {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": 400, "message": "Invalid challenge response"}})),
        )
    };
    // The stand-in device signs as "<device>|<challenge>".
    let Some(answer) = body["challengeResponse"]
        .as_str()
        .and_then(|a| STANDARD.decode(a).ok())
        .and_then(|a| String::from_utf8(a).ok())
    else {
        return bad();
    };
    let Some((device, challenge)) = answer.split_once('|') else {
        return bad();
    };
    if body["expectedIdentity"] != "example.edu"
        || !g.issued.lock().unwrap().contains(challenge)
        || !g.used.lock().unwrap().insert(challenge.to_string())
    {
        return bad();
    }
    let Some(customer) = g.customers.get(device) else {
        return bad();
    };
    (
        StatusCode::OK,
        Json(json!({
            "devicePermanentId": device,
            "customerId": customer,
            "attestedDeviceId": format!("adid-{device}"),
            "keyTrustLevel": "CHROME_OS_VERIFIED_MODE",
        })),
    )
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Starts the stand-in on loopback and writes a service account key file into `dir`: the
/// stand-in and the `[saml.verified_access]` section that points at it.
pub async fn start(dir: &std::path::Path) -> (Google, VerifiedAccessConfig) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // An RSA key as the service account's (the SAML crate makes and saves PKCS#8 keys).
    let (sa_pem_file, sa_crt) = (dir.join("sa.key"), dir.join("sa.crt"));
    quickcard_saml::IdpKey::generate("service account", now - 3600)
        .unwrap()
        .save(&sa_pem_file, &sa_crt)
        .unwrap();
    let sa_pem = std::fs::read_to_string(&sa_pem_file).unwrap();
    let public = rsa::RsaPrivateKey::from_pkcs8_pem(&sa_pem)
        .unwrap()
        .to_public_key();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let google = Google {
        public,
        base: base.clone(),
        token_uri: format!("{base}/token"),
        issued: Arc::default(),
        used: Arc::default(),
        customers: Arc::new(
            [
                (DISTRICT_DEVICE.to_string(), CUSTOMER.to_string()),
                (FOREIGN_DEVICE.to_string(), "C0another".to_string()),
            ]
            .into(),
        ),
        verify_calls: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/token", post(token))
        .route("/v2/challenge:generate", post(generate))
        .route("/v2/challenge:verify", post(verify))
        .with_state(google.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sa_file = dir.join("service-account.json");
    let mut f = std::fs::File::create(&sa_file).unwrap();
    write!(
        f,
        "{}",
        json!({
            "type": "service_account",
            "client_email": "quickcard@district-project.iam.gserviceaccount.com",
            "private_key_id": "k1",
            "private_key": sa_pem,
            "token_uri": google.token_uri,
        })
    )
    .unwrap();
    let cfg = VerifiedAccessConfig {
        customer_id: CUSTOMER.into(),
        service_account_key_file: sa_file,
        expected_identity: Some("example.edu".into()),
        api_url: base,
    };
    (google, cfg)
}

/// What the stand-in Chromebook `device` answers to `challenge`.
pub fn answer(device: &str, challenge: &str) -> String {
    STANDARD.encode(format!("{device}|{challenge}"))
}

/// Plays a Chromebook's sign-in screen at `url` (a `/saml/sso?…` address): takes the
/// portal's challenge redirect and follows it with `device`'s answer (`None`: a browser that
/// does not answer). The final response.
pub async fn attested_get(
    http: &reqwest::Client,
    url: &str,
    device: Option<&str>,
) -> reqwest::Response {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 302, "{:?}", r.text().await);
    let challenge = r.headers()["x-verified-access-challenge"]
        .to_str()
        .unwrap()
        .to_string();
    let next = r.headers()["location"].to_str().unwrap().to_string();
    assert!(next.ends_with("&qc_attest=1"), "{next}");
    let mut req = http.get(&next);
    if let Some(d) = device {
        req = req.header(
            "X-Verified-Access-Challenge-Response",
            answer(d, &challenge),
        );
    }
    req.send().await.unwrap()
}
