#!/usr/bin/env bash
# tests/browser.sh: the cluster list page in a real browser (headless
# Chromium, the DOM it built dumped after loading): what a developer sees
# is the store's clusters and pending creations, the filter links lead to
# filtered pages, and text that a user typed (a hold reason, a user name, a
# creation job's name) stays text: no element, script or handler of its
# own reaches the DOM.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_require chromium

CM_WORKERS=2
cm_setup
# The hostile values are valid API text (printable UTF-8): hold and
# createcluster accept them, so the page must render them as text.
XSS_REASON='<img src=x onerror="document.title=1">'
XSS_USER='"><script>document.title=2</script>'
XSS_JOB='</td><b id="pwned">j</b>'
clusters=$(jq -n --arg r "$XSS_REASON" --arg u "$XSS_USER" '[
    {name: "tess-ci-01", purpose: "tess-ci", osImage: "ubuntu-22.04"},
    {name: "tess-ci-02", purpose: "tess-ci", status: "held", user: $u,
     reason: $r, holdUntil: "2030-01-01T00:00:00Z"},
    {name: "tnet-ci-01", purpose: "tnet-ci", status: "occupied",
     job: "e2e", build: "7"}]')
doc=$(store_json "$clusters" | jq --arg j "$XSS_JOB" '.data.creations =
    ([{id: "6c0b1f9e-8d6a-4f43-9a35-0d1b1e2f3a4b", job: $j, user: "john",
       branch: "master", purpose: "tess-ci", since: "2026-01-01T00:00:00Z",
       expires: "2030-01-01T00:00:00Z", ticket: "0123456789abcdef"}] | tojson)')
store_put "$doc"
cm_start

# dom PATH: the DOM Chromium built from the page at PATH.
dom() {
	timeout 60 chromium --headless --no-sandbox --disable-gpu \
	    --no-first-run --disable-extensions --disable-dev-shm-usage \
	    --user-data-dir="$CM_DIR/chromium" --virtual-time-budget=2000 \
	    --dump-dom "$CM_URL$1" 2>>"$CM_DIR/chromium.log"
}
# count ERE FILE: how many times ERE occurs in FILE.
count() { grep -oE "$1" "$2" | wc -l; }

echo "# the list page as Chromium builds it"
dom / >"$CM_DIR/all.html"
expect_true "Chromium rendered the page (the log: $CM_DIR/chromium.log)" \
    grep -q '<h1>' "$CM_DIR/all.html"
expect_eq "$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "$CM_DIR/all.html")" \
    "CIMaster clusters" "the title is the page's, no script changed it"
expect_eq "$(count '<tr class="(vacant|occupied|held|disabled)"' "$CM_DIR/all.html")" 3 \
    "one row per cluster"
expect_true "the summary counts them" \
    grep -q '3 clusters' "$CM_DIR/all.html"
expect_true "the pending creation has its table" \
    grep -q '<h2>Being created</h2>' "$CM_DIR/all.html"
expect_true "and its id" grep -q '6c0b1f9e-8d6a-4f43-9a35-0d1b1e2f3a4b' "$CM_DIR/all.html"

echo "# what users typed stays text"
expect_eq "$(count '<script' "$CM_DIR/all.html")" 0 "no script element"
expect_eq "$(count '<img' "$CM_DIR/all.html")" 0 "no image element (with its onerror)"
expect_eq "$(count '<b id=' "$CM_DIR/all.html")" 0 "no element from a creation's job name"
expect_true "the hold reason is shown as text" \
    grep -qF '&lt;img src=x onerror="document.title=1"&gt;' "$CM_DIR/all.html"
expect_true "the holder's name is shown as text" \
    grep -qF '"&gt;&lt;script&gt;document.title=2&lt;/script&gt;' "$CM_DIR/all.html"
expect_true "the creation's job name is shown as text" \
    grep -qF '&lt;/td&gt;&lt;b id="pwned"&gt;j&lt;/b&gt;' "$CM_DIR/all.html"

req GET / -H 'Accept: text/html'
expect_header Content-Security-Policy \
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" \
    "and the page forbids scripts should escaping ever fail"

echo "# the filter links lead to filtered pages"
link=$(grep -oE 'href="[^"]*status=held[^"]*"' "$CM_DIR/all.html" | head -1 |
    sed 's/^href="//; s/"$//; s/&amp;/\&/g')
expect_true "the page links to the held clusters ($link)" test -n "$link"
case $link in
/*) ;;
*) link=/$link ;;
esac
dom "$link" >"$CM_DIR/held.html"
expect_eq "$(count '<tr class="(vacant|occupied|held|disabled)"' "$CM_DIR/held.html")" 1 \
    "the held page has one row"
expect_true "tess-ci-02's" grep -q '<td>tess-ci-02</td>' "$CM_DIR/held.html"
expect_true "and no creation table (a status filter is about clusters)" \
    sh -c "! grep -q 'Being created' '$CM_DIR/held.html'"

cm_finish
