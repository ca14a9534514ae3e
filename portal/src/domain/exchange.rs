//! The card exchange: the portal's decision whether a scanned card becomes a session.
//!
//! Order matters and is part of the contract: full verification of the card against the
//! portal's trust list and the kiosk's school (pure computation), the kiosk's rate limit and
//! then the card's (counted together with other requests' hits, [`crate::db::ratelimit`], so a
//! flood of scans costs a share of one upsert each and its refusals are audited once per
//! window), the roster,
//! revocation (before anything PIN-related, so a revoked lost card can never count towards a
//! lockout of its owner), the role policy, the lockout, the PIN, and finally the session.
//! Every outcome is written to the audit log.

use quickcard::{Role, VerifyOptions};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::db::store::{self, AuditEntry, AuditKind, AuditResult, Kiosk};
use crate::domain::decision::{self, Facts, Refusal};
use crate::domain::pin_attempts;
use crate::domain::secrets::Secret;
use crate::error::{ApiError, ErrorCode};

// The bodies are the wire contract's, shared with the kiosk.
pub use quickcard_api::{AppTile, Avatar, ExchangeRequest, SessionReply, User};

/// Avatar backgrounds; each has at least 4.5:1 contrast with white text (WCAG AA).
const AVATAR_COLORS: &[&str] = &[
    "#1565C0", "#2E7D32", "#AD1457", "#6A1B9A", "#C62828", "#00695C", "#283593", "#4E342E",
    "#37474F",
];

pub fn avatar(user_id: &str, given_name: &str) -> Avatar {
    let d = Sha256::digest(user_id.as_bytes());
    Avatar {
        initial: given_name
            .chars()
            .next()
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_else(|| "?".into()),
        color: AVATAR_COLORS[d[0] as usize % AVATAR_COLORS.len()].into(),
    }
}

/// The reply for a session of `user` at `school`.
#[allow(clippy::too_many_arguments)]
pub fn reply(
    state: &AppState,
    token: String,
    expires_at: i64,
    user_id: &str,
    role: Role,
    given_name: &str,
    display_name: &str,
    school: &str,
    second_factor: bool,
) -> SessionReply {
    let schools = [school.to_string()];
    SessionReply {
        token,
        // Unix seconds after 1970: the wire type is unsigned, SQL's is not.
        expires_at: u64::try_from(expires_at).unwrap_or(0),
        user: User {
            id: user_id.to_string(),
            display_name: display_name.to_string(),
            given_name: given_name.to_string(),
            role,
            avatar: avatar(user_id, given_name),
        },
        apps: state
            .apps
            .iter()
            .filter(|a| a.visible_to(role, &schools))
            .map(|a| AppTile {
                id: a.id.clone(),
                name: a.name.clone(),
                icon: a.icon.clone(),
                color: a.color.clone(),
            })
            .collect(),
        second_factor_used: second_factor,
        sign_in: None,
    }
}

fn window(state: &AppState, now: i64) -> (i64, i64) {
    let w = state.config.rate_limit.window_secs.max(1) as i64;
    let start = now - now.rem_euclid(w);
    (start, start + w - now)
}

/// Refuses once a bucket's budget for the window is spent. The first refusal in a window is
/// audited (later ones are not, so a flood cannot fill the audit log).
async fn over_limit(
    state: &AppState,
    hits: u64,
    max: u64,
    retry: i64,
    entry: impl FnOnce() -> AuditEntry,
) -> Result<(), ApiError> {
    if hits > max {
        if hits == max + 1 {
            store::audit_now(&state.db, &entry().flagged()).await?;
        }
        return Err(ApiError::rate_limited(retry.max(1) as u64));
    }
    Ok(())
}

/// The result of a refusal's audit row until [`refuse`] sets the refusal's own code.
pub const REFUSED: AuditResult = AuditResult::Refused(ErrorCode::Internal);

/// Audits a refused exchange and returns the refusal.
pub async fn refuse(state: &AppState, entry: AuditEntry, err: ApiError) -> ApiError {
    let entry = AuditEntry {
        result: AuditResult::Refused(err.code()),
        ..entry
    };
    if let Err(e) = store::audit_now(&state.db, &entry).await {
        return ApiError::from(e);
    }
    tracing::info!(code = err.code().as_str(), kind = entry.kind.as_str(), kiosk = ?entry.kiosk_id, "exchange refused");
    err
}

/// Audits a refusal of the decision ([`Refusal`]: its detail and flag, then the caller's
/// context) and returns what the caller is told.
async fn refuse_with(
    state: &AppState,
    entry: AuditEntry,
    refusal: Refusal,
    with_context: impl Fn(AuditEntry) -> AuditEntry,
) -> ApiError {
    let mut entry = entry.detail(refusal.detail());
    if refusal.flagged() {
        entry = entry.flagged();
    }
    refuse(state, with_context(entry), refusal.error()).await
}

/// Where an exchange comes from: a kiosk, or the Chromebook sign-in page. Everything that
/// differs between the two callers is here; the checks themselves are [`check`].
#[derive(Debug, Clone)]
pub struct Caller<'a> {
    /// The audit log's `kind` (`exchange`, `chromebook_sign_in`).
    pub kind: AuditKind,
    /// The kiosk, for the audit log.
    pub kiosk_id: Option<&'a str>,
    /// The caller's rate-limit bucket (`kiosk:ID`, `signin-ip:ADDR`) and its budget per window.
    pub bucket: String,
    pub max: u64,
    /// Only cards that fail verification count against `bucket`; a verified card counts
    /// against its own budget alone. For callers that share an address (a school's NAT): one
    /// pupil sending garbage, or overusing one card, cannot use up the school's budget.
    pub bucket_for_unverified_only: bool,
    /// Which cards the caller accepts.
    pub scope: SchoolScope<'a>,
    /// Context added to the detail of every audit row (e.g. which sign-in request).
    pub context: Option<String>,
    /// The holder the card claims, already read with the caller (see [`Prefetched`]).
    pub prefetched: Option<Prefetched>,
}

/// A holder read before the card was verified, together with the caller's own row (one round
/// trip instead of two). Used only when the verified card names this user at this school.
#[derive(Debug, Clone)]
pub struct Prefetched {
    /// The request's card, decoded (not verified); the holder read is the user it claims.
    pub card: quickcard::UnverifiedCard,
    pub school: String,
    pub holder: Option<store::Holder>,
}

/// The schools whose cards a caller accepts.
#[derive(Debug, Clone)]
pub enum SchoolScope<'a> {
    /// One school (a kiosk's).
    School(&'a str),
    /// Any of these schools; every school on the roster when empty (the district's sign-in
    /// page). The card's school tag names the school.
    District(&'a [String]),
}

/// A card that passed every check of the exchange: verified, within the rate limits, its
/// holder on the roster at the card's school, not revoked, allowed by the policy, not locked
/// out, and the PIN right when the card asks for one.
#[derive(Debug, Clone)]
pub struct Checked {
    pub card: quickcard::VerifiedCard,
    pub holder: store::Holder,
    /// The school the card was accepted for.
    pub school: String,
    pub second_factor: bool,
    /// The time of the check.
    pub now: i64,
}

impl Checked {
    /// The audit row of this card's holder.
    pub fn audit(&self, caller: &Caller<'_>, result: AuditResult) -> AuditEntry {
        let mut e = AuditEntry::new(self.now, caller.kind, result)
            .user(&self.holder.id)
            .card(&self.card.card_id);
        if let Some(k) = caller.kiosk_id {
            e = e.kiosk(k);
        }
        e
    }
}

/// Runs the exchange for an authenticated kiosk.
pub async fn exchange(
    state: &AppState,
    kiosk: &Kiosk,
    req: ExchangeRequest,
    prefetched: Option<Prefetched>,
) -> Result<SessionReply, ApiError> {
    let caller = Caller {
        kind: AuditKind::Exchange,
        kiosk_id: Some(&kiosk.id),
        bucket: format!("kiosk:{}", kiosk.id),
        max: state.config.rate_limit.kiosk_max,
        bucket_for_unverified_only: false,
        scope: SchoolScope::School(&kiosk.school_id),
        context: None,
        prefetched,
    };
    let Checked {
        card,
        holder,
        second_factor,
        now,
        ..
    } = check(state, &caller, req).await?;
    let user_id = holder.id.clone();
    let token = Secret::token("qcs_");
    let expires_at = now + state.config.session.lifetime_secs as i64;
    let detail = format!(
        "key {} ({}), role {}{}",
        card.key_id,
        card.key_name,
        holder.role,
        if second_factor { ", with PIN" } else { "" }
    );
    state
        .sessions
        .start(
            &store::NewSession {
                token_hash: token.hash(),
                user_id: &user_id,
                kiosk_id: &kiosk.id,
                card_id: &card.card_id,
                second_factor,
                now,
                expires_at,
            },
            &detail,
        )
        .await?;
    Ok(reply(
        state,
        token.expose().to_string(),
        expires_at,
        &holder.id,
        holder.role,
        &holder.given_name,
        &holder.display_name,
        &kiosk.school_id,
        second_factor,
    ))
}

/// Every check of the exchange, in the documented order (see the module docs); refusals are
/// audited under `caller.kind`. The caller does what a success means (a session, a SAML
/// response) and writes its audit row.
pub async fn check(
    state: &AppState,
    caller: &Caller<'_>,
    req: ExchangeRequest,
) -> Result<Checked, ApiError> {
    let now = state.now();
    let base = || {
        let mut e = AuditEntry::new(now, caller.kind, REFUSED);
        if let Some(k) = caller.kiosk_id {
            e = e.kiosk(k);
        }
        e
    };
    let with_context = |e: AuditEntry| match &caller.context {
        Some(c) if e.detail.is_empty() => e.detail(c.clone()),
        Some(c) => {
            let d = format!("{}; {c}", e.detail);
            e.detail(d)
        }
        None => e,
    };

    let rl = &state.config.rate_limit;
    let opts = VerifyOptions {
        now: now.max(0) as u64,
        skew_secs: state.config.session.clock_skew_secs,
        school: match caller.scope {
            SchoolScope::School(s) => Some(s.to_string()),
            SchoolScope::District(_) => None,
        },
        max_lifetime_secs: state.config.session.max_card_lifetime_secs(),
    };
    // Not trimmed: FORMAT.md makes whitespace around a card malformed, for the kiosk's
    // offline check and this one alike.
    let raw = req.card.as_str();
    // Verification is pure computation (~30 µs); the caller's and the card's rate-limit
    // counters are then counted, in a group with other requests'.
    let decoded = match &caller.prefetched {
        Some(p) => Ok(p.card.clone()),
        None => quickcard::decode(raw.as_bytes()),
    };
    let verified = decoded
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|card| quickcard::verify_card(card, &state.trust, &opts));
    let (start, retry) = window(state, now);
    let card_bucket = verified
        .as_ref()
        .ok()
        .map(|c| format!("card:{}", c.card_id));
    let (caller_hits, card_hits) = match &card_bucket {
        Some(card) if caller.bucket_for_unverified_only => {
            (0, Some(state.rate.hit([card.as_str()], start).await?[0]))
        }
        Some(card) => {
            let [k, c] = state
                .rate
                .hit([caller.bucket.as_str(), card.as_str()], start)
                .await?;
            (k, Some(c))
        }
        None => (
            state.rate.hit([caller.bucket.as_str()], start).await?[0],
            None,
        ),
    };
    over_limit(state, caller_hits, caller.max, retry, || {
        with_context(
            base()
                .detail(match caller.kiosk_id {
                    Some(_) => "kiosk exceeded its scan rate limit".into(),
                    None => format!("{} exceeded its rate limit", caller.bucket),
                })
                .into_result(ErrorCode::RateLimited),
        )
    })
    .await?;

    let card = match verified {
        Ok(card) => card,
        Err(error) => {
            let mut entry = base();
            if let Ok(unverified) = &decoded {
                entry = entry.card(&unverified.card_id());
            }
            let refusal = Refusal::Card {
                error,
                claimed_user: decoded.as_ref().ok().map(|c| c.claims.subject.to_string()),
            };
            return Err(refuse_with(state, entry, refusal, &with_context).await);
        }
    };
    let claims = &card.claims;
    let user_id = claims.subject.to_string();
    let entry = || base().user(&user_id).card(&card.card_id);
    let refused = |refusal: Refusal| refuse_with(state, entry(), refusal, &with_context);

    over_limit(state, card_hits.unwrap_or(0), rl.card_max, retry, || {
        with_context(
            entry()
                .detail("card exceeded its scan rate limit".into())
                .into_result(ErrorCode::RateLimited),
        )
    })
    .await?;

    let school = match caller.scope {
        SchoolScope::School(s) => s.to_string(),
        SchoolScope::District(allowed) => {
            let candidates = if allowed.is_empty() {
                store::school_ids(&state.db).await?
            } else {
                allowed.to_vec()
            };
            match decision::school_of(claims, candidates) {
                Ok(school) => school,
                Err(refusal) => return Err(refused(refusal).await),
            }
        }
    };

    let holder = match caller
        .prefetched
        .as_ref()
        // The checked card is the prefetched one, so it names the user that was read.
        .filter(|p| p.school == school)
    {
        Some(p) => p.holder.clone(),
        None => store::holder(&state.db, &user_id, &school).await?,
    };
    // Only a card whose holder is gone pays for this read.
    let erased = holder.is_none() && crate::domain::person::is_erased(&state.db, &user_id).await?;
    let decided = decision::decide(Facts {
        claims,
        school: &school,
        holder: holder.as_ref(),
        erased,
        policy: &state.config.policy,
        now,
    });
    let (second_factor, holder) = match (decided, holder) {
        (Ok(d), Some(holder)) => (d.second_factor, holder),
        (Err(refusal), _) => return Err(refused(refusal).await),
        // `decide` refuses a card without a holder; should that ever change, still refuse.
        (Ok(_), None) => {
            return Err(refused(Refusal::UnknownUser { removed: false }).await);
        }
    };
    if second_factor {
        pin_attempts::check_pin(
            state,
            caller,
            &holder,
            req.pin.as_deref(),
            now,
            &entry(),
            &with_context,
        )
        .await?;
    }
    Ok(Checked {
        card,
        holder,
        school,
        second_factor,
        now,
    })
}

trait IntoResult {
    fn into_result(self, code: ErrorCode) -> AuditEntry;
}

impl IntoResult for AuditEntry {
    fn into_result(mut self, code: ErrorCode) -> AuditEntry {
        self.result = AuditResult::Refused(code);
        self
    }
}
