//! Logins as chains of refresh tokens: starting one, exchanging its token (rotation, the
//! grace window, reuse), and ending one or all of a user's.
//!
//! Every decision is taken by the database inside one write transaction, so it holds for
//! concurrent requests on one process or several.

use std::time::Duration;

use uuid::Uuid;

use super::refresh::{self, SuccessorKey};
use crate::db::tokens::{self, RefreshTokenRow};
use crate::db::users::{self, UserRow};
use crate::db::DbConn;
use crate::error::ApiResult;
use crate::model::UserId;

/// How refresh tokens live and rotate.
#[derive(Debug, Clone)]
pub struct RefreshPolicy {
    /// Lifetime of a refresh token, from its issue.
    pub ttl: Duration,
    /// How long after its first exchange a token may be presented again and answered
    /// like the first time (`CANVASS_REFRESH_GRACE_SECS`).
    pub grace: Duration,
    /// Derives each token's successor.
    pub key: SuccessorKey,
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub enum Exchange {
    /// The next refresh token of the login, and its user.
    Rotated {
        /// The refresh token to hand out.
        refresh_token: String,
        /// Whose login it is.
        user: Box<UserRow>,
    },
    /// 401, with the reason for people.
    Refused(&'static str),
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn store(
    conn: &mut DbConn,
    policy: &RefreshPolicy,
    token: &str,
    family_id: &str,
    user_id: UserId,
    now: i64,
) -> ApiResult<()> {
    tokens::insert(
        conn,
        &RefreshTokenRow {
            token_hash: refresh::hash(token),
            family_id: family_id.to_owned(),
            user_id,
            expires_at: now.saturating_add(millis(policy.ttl)),
            used: false,
            revoked: false,
            created_at: now,
            used_at: None,
        },
    )?;
    Ok(())
}

/// Starts a new login of `user`: its first refresh token, random.
pub fn start(
    conn: &mut DbConn,
    policy: &RefreshPolicy,
    user: &UserRow,
    now: i64,
) -> ApiResult<String> {
    let token = refresh::new_token();
    store(
        conn,
        policy,
        &token,
        &Uuid::new_v4().to_string(),
        user.id,
        now,
    )?;
    Ok(token)
}

/// Exchanges a presented refresh token. Run it in a write transaction.
///
/// - A live token is spent and its successor stored and handed out.
/// - A token spent less than the grace window ago, whose successor has not been spent yet,
///   is answered with that same successor: the phone evidently never got it.
/// - Any other spent token is a reuse: every token of the login is revoked.
/// - A disabled user's token revokes its login.
pub fn exchange(
    conn: &mut DbConn,
    policy: &RefreshPolicy,
    presented: &str,
    now: i64,
) -> ApiResult<Exchange> {
    let token_hash = refresh::hash(presented);
    let won = tokens::consume(conn, &token_hash, now)?;
    let Some(row) = tokens::find(conn, &token_hash)? else {
        return Ok(Exchange::Refused("unknown refresh token"));
    };
    if row.revoked {
        return Ok(Exchange::Refused("refresh token revoked"));
    }
    if !row.used {
        return Ok(Exchange::Refused("refresh token expired"));
    }
    let successor = policy.key.successor(presented);
    if !won && !within_grace(conn, policy, &row, &successor, now)? {
        // A spent token presented again means it leaked or a phone misbehaved.
        tokens::revoke_family(conn, &row.family_id)?;
        return Ok(Exchange::Refused(
            "refresh token already used; login revoked",
        ));
    }
    let user = users::find(conn, row.user_id)?;
    let Some(user) = user.filter(|user| !user.disabled) else {
        tokens::revoke_family(conn, &row.family_id)?;
        return Ok(Exchange::Refused("user unknown or disabled"));
    };
    if won {
        store(conn, policy, &successor, &row.family_id, row.user_id, now)?;
    }
    Ok(Exchange::Rotated {
        refresh_token: successor,
        user: Box::new(user),
    })
}

/// Whether a spent token may be answered again: first spent less than the grace window
/// ago, and its successor (the login's newest token) still unspent and unrevoked.
fn within_grace(
    conn: &mut DbConn,
    policy: &RefreshPolicy,
    row: &RefreshTokenRow,
    successor: &str,
    now: i64,
) -> ApiResult<bool> {
    let Some(used_at) = row.used_at else {
        return Ok(false);
    };
    if now.saturating_sub(used_at) >= millis(policy.grace) {
        return Ok(false);
    }
    let next = tokens::find(conn, &refresh::hash(successor))?;
    Ok(next.is_some_and(|next| {
        next.family_id == row.family_id && !next.used && !next.revoked && next.expires_at > now
    }))
}

/// Ends the login `presented` belongs to, when it belongs to `user_id`.
pub fn end_login(conn: &mut DbConn, user_id: UserId, presented: &str) -> ApiResult<()> {
    if let Some(row) = tokens::find(conn, &refresh::hash(presented))? {
        if row.user_id == user_id {
            tokens::revoke_family(conn, &row.family_id)?;
        }
    }
    Ok(())
}

/// Ends every login of a user: all its refresh tokens stop working for good, and its
/// dashboard sessions end.
pub fn end_all(conn: &mut DbConn, user_id: UserId) -> ApiResult<()> {
    tokens::revoke_user(conn, user_id)?;
    crate::db::web_sessions::end_user(conn, user_id)?;
    Ok(())
}
