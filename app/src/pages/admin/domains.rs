//! Domains in the administration (issue 18, A1): a server administrator adds one (its DKIM
//! key is made at once) and removes an empty one; whoever manages a domain sees the DNS records
//! it should publish, each checked live against the DNS with a verdict (`outbound::dns_check`,
//! with the server's resolver, which tests point at a stub on loopback).

use leptos::prelude::*;

use super::section_path;
#[cfg(feature = "ssr")]
use crate::dto::AdminView;
use crate::dto::{AdminSection, DnsPurpose, DnsRow, DnsVerdict};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};

/// Fills the DNS part of the page: the records for the domain served by this server (its
/// host name, as in its certificate), and the verdict on each.
#[cfg(feature = "ssr")]
pub(super) async fn load(store: &store::Store, domain: &str, view: &mut AdminView) -> Result<(), AppError> {
    use mail::dns_records::{DkimRecord, Purpose, dns_records, zone_lines};
    use outbound::dns_check::{self, Verdict};
    let host = expect_context::<crate::ssr::WebSettings>().hostname;
    let dkim = store
        .dkim_key(domain)
        .await?
        .map(|key| DkimRecord { selector: key.selector.clone(), text: outbound::dkim::record_text(&key) });
    let records = dns_records(domain, &host, dkim.as_ref());
    let resolver = expect_context::<crate::ssr::Dns>().0;
    let verdicts = match &resolver {
        Some(resolver) => dns_check::check(resolver, &records).await,
        None => Vec::new(),
    };
    view.zone = zone_lines(&records);
    view.dns_checked = resolver.is_some();
    view.dns = records
        .into_iter()
        .enumerate()
        .map(|(index, record)| DnsRow {
            purpose: match record.purpose {
                Purpose::Mx => DnsPurpose::Mx,
                Purpose::Spf => DnsPurpose::Spf,
                Purpose::Dkim => DnsPurpose::Dkim,
                Purpose::Dmarc => DnsPurpose::Dmarc,
                Purpose::Submissions => DnsPurpose::Submissions,
                Purpose::Submission => DnsPurpose::Submission,
                Purpose::Imaps => DnsPurpose::Imaps,
                Purpose::Imap => DnsPurpose::Imap,
                Purpose::NoPop3 => DnsPurpose::NoPop3,
                Purpose::Autoconfig => DnsPurpose::Autoconfig,
                Purpose::Autodiscover => DnsPurpose::Autodiscover,
            },
            verdict: match verdicts.get(index) {
                None => DnsVerdict::NotChecked,
                Some(Verdict::Published) => DnsVerdict::Published,
                Some(Verdict::Missing) => DnsVerdict::Missing,
                Some(Verdict::NotNeeded) => DnsVerdict::NotNeeded,
                Some(Verdict::Different(found)) => DnsVerdict::Different(found.clone()),
                Some(Verdict::Unknown(why)) => DnsVerdict::Unknown(why.clone()),
            },
            name: record.name,
            kind: record.kind.to_string(),
            value: record.value,
        })
        .collect();
    Ok(())
}

/// Only a server administrator adds or removes domains.
#[cfg(feature = "ssr")]
async fn server_administrator() -> Result<(store::Store, store::Account), AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    match administration::role_of(&store, &account).await? {
        administration::Role::Server => Ok((store, account)),
        administration::Role::Domains(_) => Err(administration::forbidden()),
    }
}

#[server(endpoint = "admin_add_domain")]
pub async fn add_domain(name: String) -> Result<(), AppError> {
    let (store, account) = server_administrator().await?;
    let name = store.add_domain(&name).await.map_err(super::refusal)?;
    if let Err(error) = outbound::dkim::add_key(&store, &name).await {
        // The domain works without it; the server makes the key when it next starts.
        tracing::error!(domain = %name, %error, "administration: no DKIM key made");
    }
    tracing::info!(by = %account.login, domain = %name, "administration: domain added");
    leptos_axum::redirect(&section_path(&name, AdminSection::Dns));
    Ok(())
}

#[server(endpoint = "admin_remove_domain")]
pub async fn remove_domain(name: String) -> Result<(), AppError> {
    let (store, account) = server_administrator().await?;
    store.remove_domain(&name).await.map_err(|error| match error {
        store::Error::Refused(_) => AppError::DomainNotEmpty,
        other => super::refusal(other),
    })?;
    tracing::info!(by = %account.login, domain = %name.trim(), "administration: domain removed");
    leptos_axum::redirect(super::ADMIN_PATH);
    Ok(())
}

#[derive(Clone, Copy)]
pub struct DomainActions {
    add: ServerAction<AddDomain>,
    remove: ServerAction<RemoveDomain>,
}

impl DomainActions {
    pub(super) fn new() -> DomainActions {
        DomainActions { add: ServerAction::new(), remove: ServerAction::new() }
    }

    pub(super) fn versions(self) -> usize {
        self.add.version().get() + self.remove.version().get()
    }

    pub(super) fn results(self) -> [Option<Result<(), AppError>>; 2] {
        [self.add.value().get(), self.remove.value().get()]
    }
}

/// A server administrator's form to add a domain.
#[component]
pub fn AddDomain(actions: DomainActions) -> impl IntoView {
    let lang = use_lang();
    view! {
        <ActionForm action=actions.add attr:class="inline-form">
            <label for="new-domain">{t(lang, Key::AdminAddDomain)}</label>
            <input id="new-domain" name="name" type="text" maxlength="253" required placeholder=t(lang, Key::AdminDomainName)/>
            <button type="submit" class="button subtle">{t(lang, Key::AdminAdd)}</button>
        </ActionForm>
    }
}

/// A server administrator's button to remove an empty domain.
#[component]
pub fn RemoveDomain(domain: String, actions: DomainActions) -> impl IntoView {
    let lang = use_lang();
    view! {
        <ActionForm action=actions.remove attr:class="inline-form">
            <input type="hidden" name="name" value=domain/>
            <button type="submit" class="button subtle danger">{t(lang, Key::AdminRemoveDomain)}</button>
        </ActionForm>
    }
}

fn purpose_key(purpose: DnsPurpose) -> Key {
    match purpose {
        DnsPurpose::Mx => Key::DnsWhyMx,
        DnsPurpose::Spf => Key::DnsWhySpf,
        DnsPurpose::Dkim => Key::DnsWhyDkim,
        DnsPurpose::Dmarc => Key::DnsWhyDmarc,
        DnsPurpose::Submissions => Key::DnsWhySubmissions,
        DnsPurpose::Submission => Key::DnsWhySubmission,
        DnsPurpose::Imaps => Key::DnsWhyImaps,
        DnsPurpose::Imap => Key::DnsWhyImap,
        DnsPurpose::NoPop3 => Key::DnsWhyNoPop3,
        DnsPurpose::Autoconfig => Key::DnsWhyAutoconfig,
        DnsPurpose::Autodiscover => Key::DnsWhyAutodiscover,
    }
}

/// The records to publish, each with its verdict, then the same as zone-file lines.
#[component]
pub fn DnsRecords(domain: String, rows: Vec<DnsRow>, zone: String, checked: bool) -> impl IntoView {
    let lang = use_lang();
    // A new address each time, so the page loads (and checks) again.
    let check =
        leptos_router::hooks::use_query_map().with_untracked(|q| q.get("check").and_then(|n| n.parse::<u32>().ok()));
    let again = format!("{}&check={}", section_path(&domain, AdminSection::Dns), check.unwrap_or(0).wrapping_add(1));
    let rows = rows
        .into_iter()
        .map(|row| {
            let (class, status, detail) = match row.verdict {
                DnsVerdict::Published => ("dns-ok", t(lang, Key::DnsPublished), String::new()),
                DnsVerdict::NotNeeded => ("dns-ok", t(lang, Key::DnsNotNeeded), String::new()),
                DnsVerdict::Missing => ("dns-bad", t(lang, Key::DnsMissing), String::new()),
                DnsVerdict::Different(found) => ("dns-bad", t(lang, Key::DnsDifferent), found.join(" | ")),
                DnsVerdict::Unknown(why) => ("dns-unknown", t(lang, Key::DnsUnknown), why),
                DnsVerdict::NotChecked => ("dns-unknown", "—", String::new()),
            };
            view! {
                <tr>
                    <td><code>{row.name}</code></td>
                    <td>{row.kind}</td>
                    <td><code class="dns-value">{row.value}</code></td>
                    <td>{t(lang, purpose_key(row.purpose))}</td>
                    <td class=class>
                        <strong>{status}</strong>
                        {(!detail.is_empty()).then(|| view! { " " <code class="dns-value">{detail}</code> })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card settings-card" aria-labelledby="admin-dns">
            <h2 id="admin-dns">{format!("{} · {domain}", t(lang, Key::AdminDns))}</h2>
            <p class="note">
                {t(lang, if checked { Key::AdminDnsIntro } else { Key::AdminDnsNoResolver })}
                " "
                <a href=again>{t(lang, Key::AdminCheckAgain)}</a>
            </p>
            <div class="table-scroll">
                <table class="dns-records">
                    <thead>
                        <tr>
                            <th scope="col">{t(lang, Key::AdminName)}</th>
                            <th scope="col">{t(lang, Key::DnsColType)}</th>
                            <th scope="col">{t(lang, Key::DnsColValue)}</th>
                            <th scope="col">{t(lang, Key::DnsColPurpose)}</th>
                            <th scope="col">{t(lang, Key::DnsColStatus)}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <details>
                <summary>{t(lang, Key::AdminDnsZone)}</summary>
                <pre class="dns-zone">{zone}</pre>
            </details>
        </section>
    }
}
