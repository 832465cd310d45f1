//! The operating-system user name, libpq's default for `user`.

/// `USER`, then `LOGNAME` (read through `env`), then the password database
/// entry of the effective uid.
pub(crate) fn os_user(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    env("USER").or_else(|| env("LOGNAME")).or_else(passwd_name)
}

#[cfg(unix)]
fn passwd_name() -> Option<String> {
    use std::ffi::{c_char, c_int, CStr};

    /// Room for any platform's `struct passwd`, only ever handled by pointer.
    #[repr(C, align(16))]
    struct PasswdStorage([u8; 512]);

    extern "C" {
        fn geteuid() -> u32;
        fn getpwuid_r(
            uid: u32,
            pwd: *mut PasswdStorage,
            buf: *mut c_char,
            buflen: usize,
            result: *mut *mut PasswdStorage,
        ) -> c_int;
    }

    let mut pwd = PasswdStorage([0; 512]);
    let mut buf = vec![0 as c_char; 16 * 1024];
    let mut result: *mut PasswdStorage = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the sizes passed; `pwd` is larger
    // and more aligned than `struct passwd` on every Unix; getpwuid_r writes
    // only into `pwd` and `buf`, and `result` is null or points to `pwd`.
    let rc = unsafe { getpwuid_r(geteuid(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        return None;
    }
    // SAFETY: `pw_name` (a `char *`) is the first member of `struct passwd`
    // on Linux (glibc, musl), macOS and the BSDs; it points into `buf`.
    let name = unsafe {
        let name_ptr = *(result as *const *const c_char);
        if name_ptr.is_null() {
            return None;
        }
        CStr::from_ptr(name_ptr)
    };
    name.to_str().ok().filter(|n| !n.is_empty()).map(str::to_owned)
}

#[cfg(not(unix))]
fn passwd_name() -> Option<String> {
    std::env::var("USERNAME").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_first() {
        assert_eq!(os_user(&|k| (k == "USER").then(|| "alice".to_owned())).as_deref(), Some("alice"));
        assert_eq!(os_user(&|k| (k == "LOGNAME").then(|| "lg".to_owned())).as_deref(), Some("lg"));
    }

    #[cfg(unix)]
    #[test]
    fn passwd_lookup_works() {
        let name = passwd_name().expect("the current uid has a passwd entry");
        assert!(!name.is_empty());
    }
}
