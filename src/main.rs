//! `quickcard-kiosk`: the full-screen scan-to-dashboard app.
//!
//! Placeholder until the kiosk issue lands: it only says what it will be.

fn main() -> anyhow::Result<()> {
    println!(
        "quickcard-kiosk {}: the full-screen kiosk is not built yet.\n\
         It will read a signed QuickCard from the camera, check it offline with the `quickcard`\n\
         crate, exchange it with the portal and show the user's app tiles.",
        env!("CARGO_PKG_VERSION")
    );
    Ok(())
}
