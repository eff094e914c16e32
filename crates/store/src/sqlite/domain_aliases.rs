//! A domain's aliases as the administration sees them (issue 18, A3, A5, A6): a page of them
//! found by address or target, their targets replaced, and `postmaster@`/`abuse@`, which always
//! exist and can only be redirected (their own row, when they have one, is a redirection:
//! removing it sends them back to the domain's default, see `routing`).

use sqlx::Row;

use super::accounts::domain_id;
use super::messages::json_array;
use crate::{Address, AliasInfo, Error, RequiredAddress, Result, Route, Store, parse_address, parse_domain};

/// The addresses every domain has (A5).
pub const REQUIRED_LOCAL_PARTS: [&str; 2] = ["postmaster", "abuse"];

/// The most aliases one page of the administration lists.
pub const MAX_ALIASES_PAGE: u32 = 200;

/// The most targets one alias has: a longer list is a mailing list's job (A7).
pub const MAX_ALIAS_TARGETS: usize = 100;

/// `%filter%` for `LIKE ... ESCAPE '\'`, with LIKE's own characters taken as themselves.
pub(crate) fn like_pattern(filter: &str) -> String {
    format!("%{}%", filter.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

impl Store {
    /// One page of a domain's aliases by address (without `postmaster@` and `abuse@`: see
    /// [`Store::required_addresses`]), those whose address or a target holds `filter` (any
    /// case), and how many match in all.
    pub async fn domain_aliases(
        &self,
        domain: &str,
        filter: &str,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<AliasInfo>, u32)> {
        let domain = parse_domain(domain)?;
        let domain_id = domain_id(&mut *self.reader.acquire().await?, &domain).await?;
        // The aliases that match, as (id, local_part): all of them by the index on (domain,
        // kind, address); with a filter, those whose address holds it and those with a target
        // that holds it, each found by one pass (a LIKE '%...%' uses no index, and a pass over
        // the targets beats looking up each alias's targets in turn: 0.44 s → see bench-admin).
        const ALIAS: &str = "ad.domain_id = ?1 AND ad.kind = 'alias' AND ad.local_part NOT IN ('postmaster', 'abuse')";
        let matching = if filter.is_empty() {
            format!("SELECT ad.id, ad.local_part FROM addresses ad WHERE {ALIAS}")
        } else {
            format!(
                "SELECT ad.id, ad.local_part FROM addresses ad WHERE {ALIAS} AND ad.local_part || '@' || ?3 LIKE ?2 ESCAPE '\\'
                 UNION
                 SELECT ad.id, ad.local_part FROM alias_targets t JOIN addresses ad ON ad.id = t.address_id
                 WHERE t.target LIKE ?2 ESCAPE '\\' AND {ALIAS}"
            )
        };
        let pattern = like_pattern(filter);
        let filtered = !filter.is_empty();
        // The page's addresses, then their targets in one query. LIMIT and OFFSET take the
        // parameters after the filter's, when there is one. A filtered page counts its matches
        // in the same pass (a window over them), where a separate count would scan again;
        // unfiltered, the index gives both the page and the count cheaply.
        let (limit_at, offset_at) = if filtered { (4, 5) } else { (2, 3) };
        let counted = if filtered { ", COUNT(*) OVER () AS total" } else { "" };
        let page = format!(
            "SELECT id, local_part{counted} FROM ({matching}) ORDER BY local_part LIMIT ?{limit_at} OFFSET ?{offset_at}"
        );
        let mut rows = sqlx::query(&page).bind(domain_id);
        if filtered {
            rows = rows.bind(&pattern).bind(&domain);
        }
        let rows =
            rows.bind(i64::from(limit.min(MAX_ALIASES_PAGE))).bind(i64::from(offset)).fetch_all(&self.reader).await?;
        let total: i64 = match rows.first() {
            Some(row) if filtered => row.get("total"),
            // Unfiltered, or past the last match: counted alone.
            _ => {
                let count = format!("SELECT COUNT(*) FROM ({matching})");
                let mut total = sqlx::query_scalar(&count).bind(domain_id);
                if filtered {
                    total = total.bind(&pattern).bind(&domain);
                }
                total.fetch_one(&self.reader).await?
            }
        };
        let ids: Vec<i64> = rows.iter().map(|row| row.get("id")).collect();
        let targets: Vec<(i64, String)> = sqlx::query_as(
            "SELECT address_id, target FROM alias_targets
             WHERE address_id IN (SELECT value FROM json_each(?)) ORDER BY address_id, target",
        )
        .bind(json_array(ids.iter()))
        .fetch_all(&self.reader)
        .await?;
        let aliases = rows
            .iter()
            .map(|row| {
                let id: i64 = row.get("id");
                AliasInfo {
                    address: format!("{}@{domain}", row.get::<String, _>("local_part")),
                    targets: targets.iter().filter(|(of, _)| *of == id).map(|(_, target)| target.clone()).collect(),
                }
            })
            .collect();
        Ok((aliases, u32::try_from(total).unwrap_or(u32::MAX)))
    }

    /// `postmaster@` and `abuse@` of a domain, and where their mail goes.
    pub async fn required_addresses(&self, domain: &str) -> Result<Vec<RequiredAddress>> {
        let domain = parse_domain(domain)?;
        let mut required = Vec::new();
        for local in REQUIRED_LOCAL_PARTS {
            let address = parse_address(&format!("{local}@{domain}"))?;
            let own: Vec<String> = sqlx::query_scalar(
                "SELECT t.target FROM alias_targets t JOIN addresses ad ON ad.id = t.address_id
                 JOIN domains d ON d.id = ad.domain_id WHERE d.name = ? AND ad.local_part = ? ORDER BY t.target",
            )
            .bind(&domain)
            .bind(local)
            .fetch_all(&self.reader)
            .await?;
            let redirected = !own.is_empty();
            let targets = if redirected { own } else { self.postmaster_default(&domain).await?.into_iter().collect() };
            required.push(RequiredAddress { address: address.to_string(), targets, redirected });
        }
        Ok(required)
    }

    /// Which of `local_parts` the domain already has, as a mailbox or an alias.
    pub async fn taken_local_parts(&self, domain: &str, local_parts: &[&str]) -> Result<Vec<String>> {
        let mut taken = Vec::new();
        for local in local_parts {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT ad.id FROM addresses ad JOIN domains d ON d.id = ad.domain_id WHERE d.name = ?1 AND ad.local_part = ?2
                 UNION ALL SELECT l.id FROM lists l JOIN domains d ON d.id = l.domain_id WHERE d.name = ?1 AND l.local_part = ?2",
            )
            .bind(domain)
            .bind(local)
            .fetch_optional(&self.reader)
            .await?;
            if found.is_some() {
                taken.push(local.to_string());
            }
        }
        Ok(taken)
    }

    /// Replaces the targets of an alias, or redirects `postmaster@`/`abuse@` (A5), with the
    /// checks of [`Store::add_alias`].
    pub async fn set_alias_targets(&self, address: &Address, targets: &[Address]) -> Result<()> {
        self.check_alias_targets(address, targets).await?;
        let required = REQUIRED_LOCAL_PARTS.contains(&address.local.as_str());
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &address.domain).await?;
        let found: Option<(i64, String)> =
            sqlx::query_as("SELECT id, kind FROM addresses WHERE domain_id = ? AND local_part = ?")
                .bind(domain_id)
                .bind(&address.local)
                .fetch_optional(&mut *tx)
                .await?;
        let address_id = match found {
            Some((id, kind)) if kind == "alias" => id,
            Some(_) => return Err(Error::Refused(format!("{address} is a mailbox, not an alias"))),
            None if required => {
                insert_alias(&mut tx, domain_id, &address.local, targets).await?;
                tx.commit().await?;
                return Ok(());
            }
            None => return Err(Error::NotFound(format!("alias {address}"))),
        };
        sqlx::query("DELETE FROM alias_targets WHERE address_id = ?").bind(address_id).execute(&mut *tx).await?;
        insert_targets(&mut tx, address_id, targets).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What every alias's targets must be: one at least, at most [`MAX_ALIAS_TARGETS`], not
    /// the alias itself, and each local one an address that exists (external ones are
    /// forwarded through the outbound queue).
    pub(crate) async fn check_alias_targets(&self, address: &Address, targets: &[Address]) -> Result<()> {
        if targets.is_empty() {
            return Err(Error::invalid("alias", "it needs at least one target"));
        }
        if targets.len() > MAX_ALIAS_TARGETS {
            return Err(Error::invalid("alias", "it has too many targets; make it a list"));
        }
        if targets.contains(address) {
            return Err(Error::invalid("alias", "it cannot point to itself"));
        }
        for target in targets {
            if self.route(target).await? == Route::UnknownUser {
                return Err(Error::UnknownTarget(target.to_string()));
            }
        }
        Ok(())
    }

    /// Where `postmaster@` and `abuse@` of a domain go when they have no targets of their own
    /// (A5): the postmaster target set for the domain, else the mailbox `routing` picks.
    pub(crate) async fn postmaster_default(&self, domain: &str) -> Result<Option<String>> {
        let target: Option<String> = sqlx::query_scalar("SELECT postmaster_target FROM domains WHERE name = ?")
            .bind(domain)
            .fetch_optional(&self.reader)
            .await?
            .flatten();
        if target.is_some() {
            return Ok(target);
        }
        Ok(self.postmaster_mailbox(domain).await?.map(|(_, login)| login))
    }
}

/// Adds the alias `local_part` of the domain `domain_id` with its targets (the address free).
pub(crate) async fn insert_alias(
    tx: &mut sqlx::SqliteConnection,
    domain_id: i64,
    local_part: &str,
    targets: &[Address],
) -> Result<()> {
    let address_id: i64 =
        sqlx::query_scalar("INSERT INTO addresses (domain_id, local_part, kind) VALUES (?, ?, 'alias') RETURNING id")
            .bind(domain_id)
            .bind(local_part)
            .fetch_one(&mut *tx)
            .await?;
    insert_targets(tx, address_id, targets).await
}

/// Adds the targets of the alias `address_id`.
async fn insert_targets(tx: &mut sqlx::SqliteConnection, address_id: i64, targets: &[Address]) -> Result<()> {
    for target in targets {
        sqlx::query("INSERT OR IGNORE INTO alias_targets (address_id, target) VALUES (?, ?)")
            .bind(address_id)
            .bind(target.to_string())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{Store, parse_address};

    #[tokio::test]
    async fn aliases_paged_found_redirected_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.add_domain("example.org").await.unwrap();
        let ana = parse_address("ana@example.org").unwrap();
        store.add_user(&ana, "hash", None).await.unwrap();
        let outside = parse_address("friend@elsewhere.test").unwrap();
        for n in 0..25 {
            let alias = parse_address(&format!("team{n:02}@example.org")).unwrap();
            let target = if n % 5 == 0 { &outside } else { &ana };
            store.add_alias(&alias, std::slice::from_ref(target)).await.unwrap();
        }

        // Paged by address; found by address or by target; postmaster@ is not among them.
        let (page, total) = store.domain_aliases("example.org", "", 20, 20).await.unwrap();
        assert_eq!((page.len(), total), (5, 25));
        assert_eq!(page[0].address, "team20@example.org");
        assert_eq!(page[0].targets, ["friend@elsewhere.test"]);
        assert_eq!(store.domain_aliases("example.org", "ELSEWHERE", 0, 50).await.unwrap().1, 5);
        assert_eq!(store.domain_aliases("example.org", "team1", 0, 50).await.unwrap().1, 10);
        assert_eq!(store.domain_aliases("example.org", "team10@example.org", 0, 50).await.unwrap().1, 1);
        let (past, total) = store.domain_aliases("example.org", "team1", 50, 10).await.unwrap();
        assert_eq!((past.len(), total), (0, 10), "past the last match, still counted");
        assert_eq!(store.domain_aliases("example.org", "m_1", 0, 50).await.unwrap().1, 0);

        // Targets replaced, checked: none, itself, an unknown local address are refused.
        let team = parse_address("team01@example.org").unwrap();
        store.set_alias_targets(&team, &[ana.clone(), outside.clone()]).await.unwrap();
        let (found, _) = store.domain_aliases("example.org", "team01", 0, 1).await.unwrap();
        assert_eq!(found[0].targets, ["ana@example.org", "friend@elsewhere.test"]);
        assert!(store.set_alias_targets(&team, &[]).await.is_err());
        assert!(store.set_alias_targets(&team, std::slice::from_ref(&team)).await.is_err());
        let ghost = parse_address("ghost@example.org").unwrap();
        assert!(store.set_alias_targets(&team, std::slice::from_ref(&ghost)).await.is_err());
        assert!(store.add_alias(&ghost, &[parse_address("nobody@example.org").unwrap()]).await.is_err());
        assert!(store.set_alias_targets(&ghost, std::slice::from_ref(&ana)).await.is_err(), "not an alias");
        assert!(store.set_alias_targets(&ana, std::slice::from_ref(&outside)).await.is_err(), "a mailbox");

        // postmaster@ and abuse@ follow the default, are redirected, and go back to it.
        let required = store.required_addresses("example.org").await.unwrap();
        assert_eq!(required.len(), 2);
        assert!(required.iter().all(|r| !r.redirected && r.targets == ["ana@example.org"]));
        let abuse = parse_address("abuse@example.org").unwrap();
        store.set_alias_targets(&abuse, std::slice::from_ref(&outside)).await.unwrap();
        let required = store.required_addresses("example.org").await.unwrap();
        assert_eq!(required[1].targets, ["friend@elsewhere.test"]);
        assert!(required[1].redirected && !required[0].redirected);
        store.remove_alias(&abuse).await.unwrap();
        assert!(!store.required_addresses("example.org").await.unwrap()[1].redirected);
        assert!(store.add_alias(&abuse, std::slice::from_ref(&ana)).await.is_err(), "reserved");
    }
}
