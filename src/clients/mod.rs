//! Client verdicts: what flytectl (macOS and Linux), pyflyte and a browser will say
//! about the same chain, per channel, with the error text as each client prints it.
//! One module per verifier modelled: Go's crypto/x509 `Verify` (`go`), Apple's trustd
//! as Go reports it (`apple`), OpenSSL and BoringSSL (`openssl`), Chrome (`browser`);
//! `flytectl` and `pyflyte` pick the verifier and roots of each of their channels.
//! tests/it/client_proof.rs checks the Go and Python models against the real clients.

mod alpn;
mod apple;
mod browser;
mod context;
mod flytectl;
mod go;
mod hostname;
mod pyflyte;
mod roots;

pub use context::{
    AiaFetched, AnchorKind, Channel, ClientContext, ClientName, ClientOptions, ClientVerdict,
    FlytectlSettings,
};

/// Every wanted client's verdict on each of its channels, in a fixed order: flytectl on
/// macOS, then on Linux (gRPC, OAuth), pyflyte (gRPC, OAuth), the browser.
pub fn evaluate(ctx: &ClientContext<'_>) -> Vec<ClientVerdict> {
    if ctx.certs.is_empty() {
        return Vec::new();
    }
    let wanted =
        |client: ClientName| ctx.options.only.is_empty() || ctx.options.only.contains(&client);
    let mut out = Vec::new();
    for client in [ClientName::FlytectlMacos, ClientName::FlytectlLinux] {
        if wanted(client) {
            out.push(flytectl::grpc(ctx, client));
            out.push(flytectl::oauth(ctx, client));
        }
    }
    if wanted(ClientName::Pyflyte) {
        out.push(pyflyte::grpc(ctx));
        out.push(pyflyte::oauth(ctx));
    }
    if wanted(ClientName::Browser) {
        out.push(browser::chrome(ctx));
    }
    out
}
