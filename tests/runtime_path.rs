//! Where the macros find the runtime: under a renamed dependency (a crate
//! of its own, built here), at a path given with `crate = ...`, and with
//! the user's own `core`, `std` and `curio` in scope.

#![allow(dead_code)]

use std::process::Command;

/// A user's module with its own items named like the crates the
/// expansion uses: a bare `core::`, `std::` or `curio::` in the expansion
/// would be ambiguous here, so it must name them by absolute paths.
mod user {
    mod core {}
    mod curio {}
    mod std {}

    /// A re-export the macro cannot find by itself.
    pub mod reexport {
        pub use ::curio::*;
    }

    #[::curio::task(crate = crate::user::reexport)]
    async fn through_reexport(x: u32) -> ::curio::Result<u32> {
        ::curio::sleep(0.0).await?;
        let block = ::curio::coroutine!(crate = crate::user::reexport, {
            ::curio::sleep(0.0).await?;
            Ok::<_, ::curio::Error>(1)
        });
        Ok(x + block.await?)
    }

    /// The user's names that an expansion must not take: types, a static
    /// and locals named like the frame's parts.
    #[allow(non_camel_case_types)]
    pub struct S1(pub u32);
    #[allow(non_camel_case_types)]
    pub struct L_from(pub u32);
    pub static HERE: u32 = 3;

    #[::curio::task]
    pub async fn generated_names(from: u32) -> ::curio::Result<u32> {
        let s1 = S1(from);
        ::curio::sleep(0.0).await?;
        let at = L_from(s1.0 + HERE);
        ::curio::sleep(0.0).await?;
        let walk = at.0 + s1.0;
        Ok(walk)
    }

    #[::curio::task]
    pub async fn shadowed(x: u32) -> ::curio::Result<String> {
        let v = vec![x];
        ::curio::sleep(0.0).await?;
        let n = v[0] + through_reexport(1).await?;
        Ok(format!("{n}"))
    }
}

#[test]
fn generated_names_leave_the_users_alone() {
    assert_eq!(::curio::run(user::generated_names(1)).unwrap(), 5);
}

#[test]
fn the_expansion_names_what_it_uses_by_absolute_paths() {
    assert_eq!(::curio::run(user::shadowed(40)).unwrap(), "42");
}

#[test]
fn a_renamed_dependency_is_found_in_the_users_manifest() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "-p", "curio-renamed-user"])
        // Shares the workspace's build of the dependencies.
        .env("CARGO_TARGET_DIR", format!("{root}/target/renamed"))
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");
}
