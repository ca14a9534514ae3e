//! The HTTP-POST binding page: an HTML form with `SAMLResponse` and `RelayState` that submits
//! itself to the ACS URL. Every value is HTML-escaped. The portal adds the Chrome Credentials
//! Passing API later through [`PostPageOptions`] (an external script and a function run before
//! the submit), and serves the page with a CSP that allows the script nonce.

/// Hooks for the sign-in page.
#[derive(Debug, Clone, Default)]
pub struct PostPageOptions {
    /// CSP nonce put on every `<script>` tag (serve with `script-src 'nonce-<n>'`).
    pub script_nonce: Option<String>,
    /// External scripts loaded first, e.g. Google's Credentials Passing API `users-1.0.js`.
    pub script_srcs: Vec<String>,
    /// Trusted JavaScript (from the portal, never from user input) run as the body of an
    /// `async` function before the form is submitted — the Credentials Passing API call goes
    /// here. The form is submitted when it settles, also if it throws (then ChromeOS asks the
    /// user for a password instead). `</` is written as `<\/` so it cannot end the script.
    pub before_submit_js: Option<String>,
}

/// HTML-escapes text for element content and double-quoted attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn render_post_page(
    acs_url: &str,
    saml_response_b64: &str,
    relay_state: Option<&str>,
    options: &PostPageOptions,
) -> String {
    let nonce = options
        .script_nonce
        .as_deref()
        .map(|n| format!(" nonce=\"{}\"", html_escape(n)))
        .unwrap_or_default();
    let mut page = String::with_capacity(saml_response_b64.len() + 2048);
    page.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>Signing in…</title>\n",
    );
    for src in &options.script_srcs {
        page.push_str(&format!(
            "<script src=\"{}\"{nonce}></script>\n",
            html_escape(src)
        ));
    }
    page.push_str("</head>\n<body>\n<p>Signing in…</p>\n");
    page.push_str(&format!(
        "<form id=\"qc-saml-post\" method=\"post\" action=\"{}\">\n\
         <input type=\"hidden\" name=\"SAMLResponse\" value=\"{}\">\n",
        html_escape(acs_url),
        html_escape(saml_response_b64)
    ));
    if let Some(rs) = relay_state {
        page.push_str(&format!(
            "<input type=\"hidden\" name=\"RelayState\" value=\"{}\">\n",
            html_escape(rs)
        ));
    }
    page.push_str("<noscript><button type=\"submit\">Continue</button></noscript>\n</form>\n");
    let hook = options
        .before_submit_js
        .as_deref()
        .unwrap_or("")
        .replace("</", "<\\/");
    page.push_str(&format!(
        "<script{nonce}>\n(function () {{\n  var form = document.getElementById('qc-saml-post');\n  \
         var beforeSubmit = async function () {{\n{hook}\n  }};\n  \
         beforeSubmit().catch(function (e) {{ console.error('before submit:', e); }})\n    \
         .then(function () {{ form.submit(); }});\n}})();\n</script>\n</body>\n</html>\n"
    ));
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_and_has_hooks() {
        let page = render_post_page(
            "https://www.google.com/a/example.edu/acs?x=1&y=\"2\"",
            "PHNhbWw+",
            Some("https://x/?a=<b>&c='d'"),
            &PostPageOptions {
                script_nonce: Some("n0nce".into()),
                script_srcs: vec!["https://www.gstatic.com/x/users-1.0.js".into()],
                before_submit_js: Some("await passCredentials(); // </script><b>".into()),
            },
        );
        assert!(page.contains(
            "action=\"https://www.google.com/a/example.edu/acs?x=1&amp;y=&quot;2&quot;\""
        ));
        assert!(page.contains("name=\"SAMLResponse\" value=\"PHNhbWw+\""));
        assert!(page.contains("value=\"https://x/?a=&lt;b&gt;&amp;c=&#39;d&#39;\""));
        assert!(page.contains(
            "<script src=\"https://www.gstatic.com/x/users-1.0.js\" nonce=\"n0nce\"></script>"
        ));
        assert!(page.contains("<script nonce=\"n0nce\">"));
        assert!(page.contains("await passCredentials(); // <\\/script><b>"));
        assert_eq!(page.matches("</script>").count(), 2);
    }

    #[test]
    fn no_relay_state_no_input() {
        let page = render_post_page("https://acs", "AA==", None, &PostPageOptions::default());
        assert!(!page.contains("RelayState"));
        assert!(page.contains("form.submit()"));
    }
}
