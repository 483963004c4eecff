#!/usr/bin/env bash
# Copies the Swagger UI and ReDoc files that /docs and /redoc serve from the npm registry packages into
# nlp_service/web/static/vendor/ (the versions are those named in its README.md). Needs npm; run it only to
# change a version, then update the README's versions and checksums.
set -euo pipefail
cd "$(dirname "$0")/.."
SWAGGER=${SWAGGER:-swagger-ui-dist@5.36.0}
REDOC=${REDOC:-redoc@2.5.4}
vendor=nlp_service/web/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$SWAGGER" "$REDOC" >/dev/null)
mkdir -p "$tmp/sw" "$tmp/rd" "$vendor/swagger-ui" "$vendor/redoc"
tar xzf "$tmp"/swagger-ui-dist-*.tgz -C "$tmp/sw"
tar xzf "$tmp"/redoc-*.tgz -C "$tmp/rd"
cp "$tmp"/sw/package/{swagger-ui-bundle.js,swagger-ui.css,LICENSE,NOTICE,swagger-ui-bundle.js.LICENSE.txt} "$vendor/swagger-ui/"
cp "$tmp"/rd/package/LICENSE "$tmp"/rd/package/bundles/{redoc.standalone.js,redoc.standalone.js.LICENSE.txt} "$vendor/redoc/"
(cd "$vendor" && sha256sum swagger-ui/swagger-ui-bundle.js swagger-ui/swagger-ui.css redoc/redoc.standalone.js)
