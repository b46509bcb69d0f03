//! Giving privileges up once the capture is open, failing closed: anything
//! unexpected about the user to drop to is an error, never a silent "stay root".
//!
//! [`plan`] decides, before anything is opened, from the effective uid and
//! `SUDO_UID`/`SUDO_GID` (pure: [`target`]); [`drop_all`] carries it out after
//! the sockets are open: supplementary groups, gid, then uid (glibc applies
//! set*id to every thread), then every capability cleared from the effective,
//! permitted, inheritable and ambient sets (root and `setcap` alike), and
//! checked afterwards. Call it before any other thread starts: capability sets
//! are per thread and new threads inherit them.
#![allow(unsafe_code)]

use caps::CapSet;

/// What is wrong with the identity to drop to, or with dropping.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrivilegeError {
    BadId { name: &'static str, value: String },
    MissingGid,
    MissingUid,
    Switch { uid: u32, gid: u32, cause: String },
    Capabilities(String),
}

/// In the language of [`crate::i18n::current`] (`cli-priv-*`).
impl std::fmt::Display for PrivilegeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            PrivilegeError::BadId { name, value } => {
                crate::t!("cli-priv-bad-id", name = *name, value = format!("{value:?}"))
            }
            PrivilegeError::MissingGid => crate::t!("cli-priv-missing-gid"),
            PrivilegeError::MissingUid => crate::t!("cli-priv-missing-uid"),
            PrivilegeError::Switch { uid, gid, cause } => {
                crate::t!("cli-priv-switch", uid = uid.to_string(), gid = gid.to_string(), cause = cause.clone())
            }
            PrivilegeError::Capabilities(cause) => crate::t!("cli-priv-capabilities", cause = cause.clone()),
        };
        f.write_str(&s)
    }
}

/// Whom to become once the capture is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Keep the current user (not root, or root not started through sudo);
    /// capabilities are still cleared.
    Stay,
    /// Become this user and group (root started through sudo).
    Become { uid: u32, gid: u32 },
}

fn parse_id(name: &'static str, value: &str) -> Result<u32, PrivilegeError> {
    let bad = || PrivilegeError::BadId { name, value: value.to_string() };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // (uid_t)-1 means "leave unchanged" to setresuid: never a target.
    value.parse::<u32>().ok().filter(|&id| id != u32::MAX).ok_or_else(bad)
}

/// The plan for effective uid `euid` and the values of `SUDO_UID` and `SUDO_GID`.
///
/// # Errors
/// When one is set without the other, or either is not a valid id.
pub fn target(euid: u32, sudo_uid: Option<&str>, sudo_gid: Option<&str>) -> Result<Plan, PrivilegeError> {
    if euid != 0 {
        return Ok(Plan::Stay);
    }
    match (sudo_uid, sudo_gid) {
        (None, None) => Ok(Plan::Stay),
        (Some(_), None) => Err(PrivilegeError::MissingGid),
        (None, Some(_)) => Err(PrivilegeError::MissingUid),
        (Some(u), Some(g)) => {
            let (uid, gid) = (parse_id("SUDO_UID", u)?, parse_id("SUDO_GID", g)?);
            Ok(if uid == 0 { Plan::Stay } else { Plan::Become { uid, gid } })
        }
    }
}

/// The plan for this process, from its effective uid and environment.
///
/// # Errors
/// See [`target`].
pub fn plan() -> Result<Plan, PrivilegeError> {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let var = |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    target(euid, var("SUDO_UID").as_deref(), var("SUDO_GID").as_deref())
}

/// Carries out `plan`, then clears every capability and checks that none is left.
///
/// # Errors
/// When a set*id call fails or leaves another identity than asked, or when
/// capabilities remain: the process must not go on then.
pub fn drop_all(plan: Plan) -> Result<(), PrivilegeError> {
    if let Plan::Become { uid, gid } = plan {
        let fail = |cause: String| PrivilegeError::Switch { uid, gid, cause };
        // SAFETY: setgroups with a zero-length list reads no memory; the set*id
        // calls take plain integers. Each result is checked before going on.
        let rc = unsafe {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setresgid(gid, gid, gid) != 0
                || libc::setresuid(uid, uid, uid) != 0
            {
                -1
            } else {
                0
            }
        };
        if rc != 0 {
            return Err(fail(std::io::Error::last_os_error().to_string()));
        }
        let (mut r, mut e, mut s) = (0, 0, 0);
        let (mut rg, mut eg, mut sg) = (0, 0, 0);
        // SAFETY: six live integers for the kernel to fill in.
        let ok = unsafe {
            libc::getresuid(&raw mut r, &raw mut e, &raw mut s) == 0
                && libc::getresgid(&raw mut rg, &raw mut eg, &raw mut sg) == 0
        };
        if !ok || [r, e, s] != [uid; 3] || [rg, eg, sg] != [gid; 3] {
            return Err(fail(format!("now uid {r}/{e}/{s}, gid {rg}/{eg}/{sg}")));
        }
    }
    let cap_err = |e: caps::errors::CapsError| PrivilegeError::Capabilities(e.to_string());
    // Ambient first: the kernel refuses ambient capabilities not in permitted.
    if caps::clear(None, CapSet::Ambient).is_err() {
        // Kernels before 4.3 have no ambient set: nothing to clear there.
    }
    for set in [CapSet::Effective, CapSet::Permitted, CapSet::Inheritable] {
        caps::clear(None, set).map_err(cap_err)?;
    }
    for set in [CapSet::Effective, CapSet::Permitted, CapSet::Inheritable] {
        let left = caps::read(None, set).map_err(cap_err)?;
        if !left.is_empty() {
            return Err(PrivilegeError::Capabilities(format!("{set:?} still holds {left:?}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_root_stays_whatever_the_environment_says() {
        assert_eq!(target(1000, Some("abc"), None), Ok(Plan::Stay));
    }

    #[test]
    fn root_without_sudo_stays() {
        assert_eq!(target(0, None, None), Ok(Plan::Stay));
        assert_eq!(target(0, Some("0"), Some("0")), Ok(Plan::Stay));
    }

    #[test]
    fn root_through_sudo_becomes_the_user() {
        assert_eq!(target(0, Some("1000"), Some("100")), Ok(Plan::Become { uid: 1000, gid: 100 }));
    }

    #[test]
    fn invalid_ids_are_errors() {
        for bad in ["4294967295", "abc", "-1", "", "12a", " 1", "99999999999"] {
            let err = target(0, Some(bad), Some("100")).unwrap_err();
            assert!(matches!(err, PrivilegeError::BadId { name: "SUDO_UID", .. }), "{bad:?}: {err}");
            let err = target(0, Some("1000"), Some(bad)).unwrap_err();
            assert!(matches!(err, PrivilegeError::BadId { name: "SUDO_GID", .. }), "{bad:?}: {err}");
        }
    }

    #[test]
    fn one_without_the_other_is_an_error() {
        assert_eq!(target(0, Some("1000"), None), Err(PrivilegeError::MissingGid));
        assert_eq!(target(0, None, Some("100")), Err(PrivilegeError::MissingUid));
    }
}
