//! Mail programs set themselves up from an address alone (K6): Thunderbird's autoconfig
//! (`config-v1.1.xml`, at both addresses it tries), Outlook's Autodiscover (the "POX" XML
//! exchange), and an Apple configuration profile to download. Each names this server's host
//! and the ports it listens on, and only for the domains it serves: any other address gets
//! `404`, so nothing is told about others. None holds a secret: the program asks the password.
//!
//! The documents are small and fixed, so they are written here with escaping rather than with
//! an XML library; the one thing read, Autodiscover's `<EMailAddress>`, is found by its tags.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use store::{Address, Store, parse_address};

/// Where mail programs reach this server: its host name (as in its certificate) and the ports
/// of the listeners that are on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Endpoints {
    pub hostname: String,
    pub imaps: Option<u16>,
    pub imap: Option<u16>,
    pub submissions: Option<u16>,
    pub submission: Option<u16>,
}

#[derive(Clone)]
struct Autoconfig {
    store: Store,
    endpoints: Arc<Endpoints>,
}

/// The largest Autodiscover request read: a real one is well under 1 kB.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

pub(crate) fn routes(store: Store, endpoints: Endpoints) -> Router {
    let state = Autoconfig { store, endpoints: Arc::new(endpoints) };
    Router::new()
        // Thunderbird asks autoconfig.DOMAIN, then DOMAIN's well-known address (both served
        // by this host when their names point here).
        .route("/mail/config-v1.1.xml", get(thunderbird))
        .route("/.well-known/autoconfig/mail/config-v1.1.xml", get(thunderbird))
        .route("/autodiscover/autodiscover.xml", axum::routing::post(autodiscover))
        .route("/Autodiscover/Autodiscover.xml", axum::routing::post(autodiscover))
        .route("/autoconfig/apple.mobileconfig", get(apple_profile))
        .with_state(state)
}

#[derive(serde::Deserialize)]
struct AddressQuery {
    emailaddress: Option<String>,
}

/// The address asked about, when it is in one of our domains.
async fn our_address(store: &Store, text: &str) -> Option<Address> {
    let address = parse_address(text.trim()).ok()?;
    store.is_local_domain(&address.domain).await.ok()?.then_some(address)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such domain here\n").into_response()
}

fn xml(body: String, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

/// Thunderbird's autoconfig: for `?emailaddress=`, else for the domain in the Host header
/// (`autoconfig.DOMAIN` or `DOMAIN`).
async fn thunderbird(
    State(state): State<Autoconfig>,
    Query(query): Query<AddressQuery>,
    headers: HeaderMap,
) -> Response {
    let domain = match query.emailaddress {
        Some(text) => match our_address(&state.store, &text).await {
            Some(address) => address.domain,
            None => return not_found(),
        },
        None => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
            let host = host.split(':').next().unwrap_or_default().to_ascii_lowercase();
            let domain = host.strip_prefix("autoconfig.").unwrap_or(&host).to_string();
            if !state.store.is_local_domain(&domain).await.unwrap_or(false) {
                return not_found();
            }
            domain
        }
    };
    xml(thunderbird_config(&domain, &state.endpoints), "application/xml; charset=utf-8")
}

fn thunderbird_config(domain: &str, endpoints: &Endpoints) -> String {
    let domain = escape(domain);
    let host = escape(&endpoints.hostname);
    let server = |tag: &str, kind: &str, port: Option<u16>, socket: &str| {
        port.map(|port| {
            format!(
                "    <{tag} type=\"{kind}\">\n      <hostname>{host}</hostname>\n      <port>{port}</port>\n      \
                 <socketType>{socket}</socketType>\n      <username>%EMAILADDRESS%</username>\n      \
                 <authentication>password-cleartext</authentication>\n    </{tag}>\n"
            )
        })
        .unwrap_or_default()
    };
    // Implicit TLS first: RFC 8314 prefers it, and Thunderbird takes the first it can reach.
    let servers = [
        server("incomingServer", "imap", endpoints.imaps, "SSL"),
        server("incomingServer", "imap", endpoints.imap, "STARTTLS"),
        server("outgoingServer", "smtp", endpoints.submissions, "SSL"),
        server("outgoingServer", "smtp", endpoints.submission, "STARTTLS"),
    ]
    .concat();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  \
         <emailProvider id=\"{domain}\">\n    <domain>{domain}</domain>\n    \
         <displayName>{domain}</displayName>\n    <displayShortName>{domain}</displayShortName>\n\
         {servers}  </emailProvider>\n</clientConfig>\n"
    )
}

/// Outlook's Autodiscover, POX version: the request names the address; the answer gives the
/// IMAP and SMTP servers (Exchange ActiveSync's own schema is for when it is served).
async fn autodiscover(State(state): State<Autoconfig>, body: axum::body::Bytes) -> Response {
    if body.len() > MAX_REQUEST_BYTES {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let text = String::from_utf8_lossy(&body);
    let Some(asked) = between(&text, "<EMailAddress>", "</EMailAddress>") else {
        return (StatusCode::BAD_REQUEST, "no <EMailAddress> in the request\n").into_response();
    };
    let Some(address) = our_address(&state.store, asked).await else { return not_found() };
    xml(autodiscover_response(&address, &state.endpoints), "text/xml; charset=utf-8")
}

/// The text between the first `open` tag and the `close` after it.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let length = text[start..].find(close)?;
    Some(&text[start..start + length])
}

fn autodiscover_response(address: &Address, endpoints: &Endpoints) -> String {
    let login = escape(&address.to_string());
    let host = escape(&endpoints.hostname);
    let protocol = |kind: &str, port: Option<u16>, encryption: &str, extra: &str| {
        port.map(|port| {
            format!(
                "      <Protocol>\n        <Type>{kind}</Type>\n        <Server>{host}</Server>\n        \
                 <Port>{port}</Port>\n        <LoginName>{login}</LoginName>\n        \
                 <DomainRequired>off</DomainRequired>\n        <SPA>off</SPA>\n        \
                 <Encryption>{encryption}</Encryption>\n        <AuthRequired>on</AuthRequired>\n{extra}      </Protocol>\n"
            )
        })
    };
    let smtp_extra = "        <UsePOPAuth>on</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>\n";
    let imap = protocol("IMAP", endpoints.imaps, "SSL", "").or_else(|| protocol("IMAP", endpoints.imap, "TLS", ""));
    let smtp = protocol("SMTP", endpoints.submissions, "SSL", smtp_extra)
        .or_else(|| protocol("SMTP", endpoints.submission, "TLS", smtp_extra));
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n  \
         <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n    \
         <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n{}{}    </Account>\n  \
         </Response>\n</Autodiscover>\n",
        imap.unwrap_or_default(),
        smtp.unwrap_or_default()
    )
}

/// An Apple configuration profile (iOS, macOS) with the mail account of `?emailaddress=`.
async fn apple_profile(State(state): State<Autoconfig>, Query(query): Query<AddressQuery>) -> Response {
    let Some(address) = query.emailaddress else { return not_found() };
    let Some(address) = our_address(&state.store, &address).await else { return not_found() };
    let Some(profile) = apple_mobileconfig(&address, &state.endpoints) else { return not_found() };
    let disposition = format!("attachment; filename=\"{}.mobileconfig\"", address.domain);
    (
        [
            (header::CONTENT_TYPE, "application/x-apple-aspen-config".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        profile,
    )
        .into_response()
}

/// The profile's plist, or none when IMAP over TLS or submission is off (Apple Mail takes
/// one server of each kind).
fn apple_mobileconfig(address: &Address, endpoints: &Endpoints) -> Option<String> {
    let (incoming_port, incoming_tls) = endpoints.imaps.map(|p| (p, true)).or(endpoints.imap.map(|p| (p, false)))?;
    let (outgoing_port, outgoing_tls) =
        endpoints.submissions.map(|p| (p, true)).or(endpoints.submission.map(|p| (p, false)))?;
    let login = escape(&address.to_string());
    let host = escape(&endpoints.hostname);
    let domain = escape(&address.domain);
    // Stable identifiers: installing the profile again replaces the old one.
    let identifier = format!("{}.facteur.mail.{}", reversed(&address.domain), escape(&address.local));
    let uuid = |salt: &str| uuid_of(&format!("{salt}:{address}"));
    let boolean = |value: bool| if value { "<true/>" } else { "<false/>" };
    Some(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>EmailAccountDescription</key><string>{login}</string>
      <key>EmailAccountType</key><string>EmailTypeIMAP</string>
      <key>EmailAddress</key><string>{login}</string>
      <key>IncomingMailServerAuthentication</key><string>EmailAuthPassword</string>
      <key>IncomingMailServerHostName</key><string>{host}</string>
      <key>IncomingMailServerPortNumber</key><integer>{incoming_port}</integer>
      <key>IncomingMailServerUseSSL</key>{incoming_tls}
      <key>IncomingMailServerUsername</key><string>{login}</string>
      <key>OutgoingMailServerAuthentication</key><string>EmailAuthPassword</string>
      <key>OutgoingMailServerHostName</key><string>{host}</string>
      <key>OutgoingMailServerPortNumber</key><integer>{outgoing_port}</integer>
      <key>OutgoingMailServerUseSSL</key>{outgoing_tls}
      <key>OutgoingMailServerUsername</key><string>{login}</string>
      <key>OutgoingPasswordSameAsIncomingPassword</key><true/>
      <key>PayloadDisplayName</key><string>{login}</string>
      <key>PayloadIdentifier</key><string>{identifier}.account</string>
      <key>PayloadType</key><string>com.apple.mail.managed</string>
      <key>PayloadUUID</key><string>{account_uuid}</string>
      <key>PayloadVersion</key><integer>1</integer>
    </dict>
  </array>
  <key>PayloadDisplayName</key><string>{domain} mail</string>
  <key>PayloadIdentifier</key><string>{identifier}</string>
  <key>PayloadType</key><string>Configuration</string>
  <key>PayloadUUID</key><string>{profile_uuid}</string>
  <key>PayloadVersion</key><integer>1</integer>
</dict>
</plist>
"#,
        incoming_tls = boolean(incoming_tls),
        outgoing_tls = boolean(outgoing_tls),
        account_uuid = uuid("account"),
        profile_uuid = uuid("profile"),
    ))
}

/// `example.org` as `org.example`, the reverse-DNS style of profile identifiers.
fn reversed(domain: &str) -> String {
    domain.rsplit('.').collect::<Vec<_>>().join(".")
}

/// A UUID-shaped identifier derived from `text` (SHA-256), the same each time.
fn uuid_of(text: &str) -> String {
    use sha2::Digest;
    let hex = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]).to_uppercase()
}

/// Text safe inside XML elements and attributes.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints() -> Endpoints {
        Endpoints {
            hostname: "mail.example.org".into(),
            imaps: Some(993),
            imap: Some(143),
            submissions: Some(465),
            submission: None,
        }
    }

    #[test]
    fn documents_name_the_listeners_that_are_on() {
        let config = thunderbird_config("example.org", &endpoints());
        assert!(config.contains("<port>993</port>\n      <socketType>SSL</socketType>"), "{config}");
        assert!(config.contains("<port>143</port>\n      <socketType>STARTTLS</socketType>"), "{config}");
        assert!(config.contains("<port>465</port>"), "{config}");
        assert!(!config.contains("587"), "{config}");
        let address = parse_address("ana@example.org").unwrap();
        let answer = autodiscover_response(&address, &endpoints());
        assert!(answer.contains("<Type>IMAP</Type>") && answer.contains("<Port>993</Port>"), "{answer}");
        assert!(answer.contains("<LoginName>ana@example.org</LoginName>"), "{answer}");
        assert_eq!(between("<a><EMailAddress>x@y</EMailAddress>", "<EMailAddress>", "</EMailAddress>"), Some("x@y"));
        assert_eq!(escape("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
        assert_eq!(reversed("mail.example.org"), "org.example.mail");
        assert_eq!(uuid_of("x"), uuid_of("x"));
        assert_eq!(uuid_of("x").len(), 36);
    }
}
