#!/usr/bin/env bash
# The README's tour, end to end, against a running eseal: register two enterprises, seal
# examples/contract.pdf, verify it, then every capability once (console login, templates,
# PINs, approvals, bulk jobs, envelopes with a webhook, trust anchors, the audit log).
#
#   ESEAL_OUTBOUND_ALLOWED_HOSTS='["127.0.0.1"]' make run   # in one terminal; the envelope
#                            # step's webhook goes to a receiver on 127.0.0.1, and webhooks to
#                            # loopback are refused unless allowed
#   scripts/tour.sh          # in another, from the repository
#
# ESEAL_URL (default http://127.0.0.1:8000) is the service. The first step runs the `eseal`
# CLI, which works on the database directly: run this script with the SAME ESEAL_DATA_DIR
# and ESEAL_DATABASE_URL as the server (the defaults match `make run` in this folder).
# Needs curl, jq and openssl (scripts/system-deps.sh installs them). Files go to TOUR_OUT.
set -euo pipefail
cd "$(dirname "$0")/.."

URL=${ESEAL_URL:-http://127.0.0.1:8000}
ESEAL=${ESEAL_CLI:-.venv/bin/eseal}
PY=${ESEAL_PYTHON:-.venv/bin/python}
OUT=${TOUR_OUT:-$(mktemp -d -t eseal-tour.XXXXXX)}
mkdir -p "$OUT"
RUN=$(date +%s)-$$ # makes names and numbers unique, so the tour can run again

say() { printf '\n==> %s\n' "$*"; }
show() { printf '    %s\n' "$@"; }
# request FILE METHOD PATH KEY [curl args...]: the answer into FILE; a problem+json answer
# (status >= 400) is printed and stops the tour
request() {
  local file=$1 method=$2 path=$3 key=$4
  shift 4
  local auth=() status
  if [ -n "$key" ]; then auth=(-H "Authorization: Bearer $key"); fi
  status=$(curl -sS -o "$file" -w '%{http_code}' -X "$method" "${auth[@]}" "$URL$path" "$@")
  if [ "$status" -ge 400 ]; then
    echo "tour: $method $path answered $status:" >&2
    cat "$file" >&2
    echo >&2
    exit 1
  fi
}
# call METHOD PATH KEY [curl args...]: the answer's body on stdout
call() {
  local body
  body=$(mktemp)
  request "$body" "$@"
  cat "$body"
  rm -f "$body"
}
json() { call "$1" "$2" "$3" -H 'content-type: application/json' -d "$4"; }
uscc() { "$PY" -c 'import random,sys
from pki.identifiers import uscc_check_character as c
b="91330106"+"".join(random.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
print(b+c(b))'; }
resident_id() { "$PY" -c 'import random
from pki.identifiers import resident_id_check_character as c
b="330106199"+str(random.randint(0,9))+"0315"+str(random.randint(100,999))
print(b+c(b))'; }

say "0. the service is up: $URL"
curl -sS --fail "$URL/readyz" >/dev/null
show "API docs: $URL/docs   console: $URL/console/   public verification: $URL/verify"

say "1. a platform API key (the CLI shares the server's ESEAL_DATA_DIR / ESEAL_DATABASE_URL)"
P=$("$ESEAL" client create --org platform --name "tour-$RUN" --scopes platform |
  sed -n 's/^API key (shown once): //p')
[ -n "$P" ] || { echo "tour: no key from 'eseal client create'" >&2; exit 1; }
show "P=${P:0:12}…"

say "2. register the enterprise: organization, certificates and five standard seals at once"
ENTERPRISE=$(json POST /api/v1/enterprises "$P" \
  "{\"name\":\"杭州青禾科技有限公司（导览 $RUN）\",\"uscc\":\"$(uscc)\",\"legal_representative\":\"张伟\"}")
ORG=$(jq -r .organization_id <<<"$ENTERPRISE")
SEAL=$(jq -r '.seals[] | select(.kind == "contract") | .id' <<<"$ENTERPRISE")
CODE=$(jq -r '.seals[] | select(.kind == "contract") | .code' <<<"$ENTERPRISE")
jq -r '.seals[] | "    \(.name)  code \(.code)  \(.status)"' <<<"$ENTERPRISE"
show "ORG=$ORG" "SEAL=$SEAL (合同专用章, code $CODE)"

say "3. the portal's API client (seals:use) and a grant on the contract seal"
CLIENT=$(json POST "/api/v1/organizations/$ORG/clients" "$P" \
  '{"name":"政务门户","scopes":["seals:read","seals:use","envelopes:read","envelopes:write"]}')
C=$(jq -r .api_key <<<"$CLIENT")
C_ID=$(jq -r .id <<<"$CLIENT")
json POST "/api/v1/seals/$SEAL/grants" "$P" \
  "{\"grantee_kind\":\"client\",\"grantee_id\":\"$C_ID\"}" >/dev/null
show "C=${C:0:12}… (client $C_ID) may use $CODE"

say "4. seal examples/contract.pdf where it says 乙方（盖章）"
request "$OUT/sealed.pdf" POST "/api/v1/seals/$SEAL/sign" "$C" -D "$OUT/sign.headers" \
  -F file=@examples/contract.pdf \
  -F 'placement={"type":"keyword","keyword":"乙方（盖章）"}' -F level=B-LT
DOC=$(tr -d '\r' <"$OUT/sign.headers" | sed -n 's/^x-eseal-document-id: //Ip')
show "$OUT/sealed.pdf ($(wc -c <"$OUT/sealed.pdf") bytes), document $DOC"

say "5. anyone verifies it (pages count from 1)"
call POST /api/v1/verify "" -H 'content-type: application/pdf' \
  --data-binary @"$OUT/sealed.pdf" >"$OUT/report.json"
jq -r '"    \(.indication): \(.verdict_zh)",
  (.signatures[] | "    seal \(.seal.code) (\(.seal.status)), \(.pades_level), page \(.positions[0].page)")' \
  "$OUT/report.json"
show "the same as a page: $URL/verify?d=$DOC"
call GET "/api/v1/public/seals/$CODE" "" | jq -r '"    public status of \(.code): \(.kind_label) \(.status)"'

say "6. a console login for a signer (person, role, username, password)"
USERNAME="lina-$RUN"
MEMBER=$(json POST "/api/v1/organizations/$ORG/members" "$P" \
  "{\"name\":\"李娜\",\"resident_id\":\"$(resident_id)\",\"roles\":[\"signer\"],\"username\":\"$USERNAME\",\"password\":\"tour password 2026\"}")
PERSON=$(jq -r .person_id <<<"$MEMBER")
show "sign in at $URL/console/login as $USERNAME / 'tour password 2026'"

say "7. a personal seal with a PIN: its owner's PIN at every use"
PSEAL=$(json POST "/api/v1/organizations/$ORG/seals" "$P" \
  "{\"kind\":\"personal\",\"person_id\":\"$PERSON\"}" | jq -r .id)
call POST "/api/v1/seals/$PSEAL/activate" "$P" >/dev/null
json PUT "/api/v1/seals/$PSEAL/pin" "$P" '{"pin":"602913"}' >/dev/null
json POST "/api/v1/seals/$PSEAL/grants" "$P" \
  "{\"grantee_kind\":\"client\",\"grantee_id\":\"$C_ID\"}" >/dev/null
curl -sS -X POST "$URL/api/v1/seals/$PSEAL/sign" -H "Authorization: Bearer $C" \
  -H 'Accept-Language: zh-CN' -F file=@"$OUT/sealed.pdf" \
  -F 'placement={"type":"coordinates","page":2,"x_mm":60,"y_mm":250}' -F pin=000000 |
  jq -r '"    wrong PIN → \(.title)：\(.detail)"'
request "$OUT/sealed-2.pdf" POST "/api/v1/seals/$PSEAL/sign" "$C" -F file=@"$OUT/sealed.pdf" \
  -F 'placement={"type":"coordinates","page":2,"x_mm":60,"y_mm":250}' -F pin=602913
show "right PIN → $OUT/sealed-2.pdf (two signatures)"

say "8. approvals (用印审批): the seal now needs an approved request per document"
json PATCH "/api/v1/seals/$SEAL" "$P" '{"requires_approval":true}' >/dev/null
SHA=$(sha256sum examples/contract.pdf | cut -d' ' -f1)
curl -sS -X POST "$URL/api/v1/seals/$SEAL/sign" -H "Authorization: Bearer $C" \
  -H 'Accept-Language: zh-CN' -F file=@examples/contract.pdf \
  -F 'placement={"type":"keyword","keyword":"乙方（盖章）"}' |
  jq -r '"    without approval → \(.title)：\(.detail)"'
REQ=$(json POST "/api/v1/seals/$SEAL/usage-requests" "$C" \
  "{\"purpose\":\"运维服务合同盖章\",\"document_sha256\":\"$SHA\"}" | jq -r .id)
json POST "/api/v1/usage-requests/$REQ/approve" "$P" '{"note":"同意"}' | jq -r '"    request \(.status)"'
request "$OUT/approved.pdf" POST "/api/v1/seals/$SEAL/sign" "$C" -F file=@examples/contract.pdf \
  -F 'placement={"type":"keyword","keyword":"乙方（盖章）"}' -F level=B-T
show "approved → $OUT/approved.pdf"
json PATCH "/api/v1/seals/$SEAL" "$P" '{"requires_approval":false}' >/dev/null

say "9. templates: a contract generated and sealed in one call (its QR code opens its result)"
call GET /api/v1/templates "$C" | jq -r '.[] | "    \(.name): \(.title)"'
DATA='{"title":"政府采购合同","contract_number":"ZC-'$RUN'","party_a":{"name":"杭州市某采购中心"},"party_b":{"name":"杭州青禾科技有限公司"},"clauses":["乙方按甲方要求提供运维服务。"],"signed_on":"2026-04-01","amount":"1680.32"}'
request "$OUT/generated.pdf" POST /api/v1/templates/two-party-contract/documents "$C" \
  -D "$OUT/gen.headers" -H 'content-type: application/json' \
  -d "{\"seal_id\":\"$SEAL\",\"level\":\"B-T\",\"data\":$DATA}"
show "$OUT/generated.pdf, QR → $(tr -d '\r' <"$OUT/gen.headers" | sed -n 's/^x-eseal-verify-url: //Ip')"

say "10. a bulk job: three contracts sealed in the background"
RECORDS=$(for n in 1 2 3; do
  jq -c --arg n "ZC-$RUN-$n" '.contract_number = $n' <<<"$DATA"
done | jq -sc .)
JOB=$(json POST /api/v1/jobs "$C" \
  "{\"template\":\"two-party-contract\",\"seal_id\":\"$SEAL\",\"level\":\"B-B\",\"records\":$RECORDS}" |
  jq -r .id)
for _ in $(seq 1 120); do
  PROGRESS=$(call GET "/api/v1/jobs/$JOB" "$C")
  jq -r '"    \(.status): \(.done)/\(.total) done, \(.failed) failed"' <<<"$PROGRESS"
  [ "$(jq -r .status <<<"$PROGRESS")" = completed ] && break
  sleep 1
done
call GET "/api/v1/jobs/$JOB/records" "$C" | jq -r '.[] | "    #\(.position) \(.reference) \(.status) \(.document_url)"'

say "11. an envelope: two enterprises seal one contract in turn; a webhook hears each step"
HOOK_PORT_FILE="$OUT/webhook.port"
"$PY" - "$OUT/webhooks.log" "$HOOK_PORT_FILE" <<'RECEIVER' &
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
log, port_file = sys.argv[1], sys.argv[2]
class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"] or 0))
        with open(log, "a") as out:
            out.write(json.dumps({"event": json.loads(body).get("event"),
                                  "signature": self.headers["x-eseal-signature"]}) + "\n")
        self.send_response(204); self.end_headers()
    def log_message(self, *args): pass
server = HTTPServer(("127.0.0.1", 0), Hook)
open(port_file, "w").write(str(server.server_port))
server.serve_forever()
RECEIVER
HOOK_PID=$!
trap 'kill "$HOOK_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -s "$HOOK_PORT_FILE" ] && break; sleep 0.1; done
B_ENTERPRISE=$(json POST /api/v1/enterprises "$P" \
  "{\"name\":\"杭州某建设有限公司（导览 $RUN）\",\"uscc\":\"$(uscc)\",\"legal_representative\":\"王强\"}")
B_ORG=$(jq -r .organization_id <<<"$B_ENTERPRISE")
B_SEAL=$(jq -r '.seals[] | select(.kind == "contract") | .id' <<<"$B_ENTERPRISE")
B_CLIENT=$(json POST "/api/v1/organizations/$B_ORG/clients" "$P" \
  '{"name":"建设公司门户","scopes":["seals:use","envelopes:read"]}')
B=$(jq -r .api_key <<<"$B_CLIENT")
json POST "/api/v1/seals/$B_SEAL/grants" "$P" \
  "{\"grantee_kind\":\"client\",\"grantee_id\":\"$(jq -r .id <<<"$B_CLIENT")\"}" >/dev/null
ENVELOPE=$(call POST /api/v1/envelopes "$C" -F file=@examples/contract.pdf -F "envelope={
  \"title\":\"政务服务平台运维服务合同\",\"routing\":\"sequential\",
  \"webhook\":{\"url\":\"http://127.0.0.1:$(cat "$HOOK_PORT_FILE")/eseal\",\"secret\":\"tour-webhook-secret-$RUN\"},
  \"participants\":[
    {\"organization_id\":\"$B_ORG\",\"seal_id\":\"$B_SEAL\",\"label\":\"甲方\",\"level\":\"B-T\",
     \"placement\":{\"type\":\"keyword\",\"keyword\":\"甲方（盖章）\"}},
    {\"organization_id\":\"$ORG\",\"seal_id\":\"$SEAL\",\"label\":\"乙方\",\"level\":\"B-T\",
     \"placement\":{\"type\":\"keyword\",\"keyword\":\"乙方（盖章）\"}}]}")
ENV=$(jq -r .id <<<"$ENVELOPE")
FIRST=$(jq -r '.participants[0].id' <<<"$ENVELOPE")
SECOND=$(jq -r '.participants[1].id' <<<"$ENVELOPE")
show "envelope $ENV: $(jq -r .status <<<"$ENVELOPE")"
json POST "/api/v1/envelopes/$ENV/participants/$FIRST/sign" "$B" '{}' |
  jq -r '"    甲方 sealed → revision \(.revision.number)"'
json POST "/api/v1/envelopes/$ENV/participants/$SECOND/sign" "$C" '{}' |
  jq -r '"    乙方 sealed → revision \(.revision.number), envelope \(.envelope.status)"'
request "$OUT/envelope.pdf" GET "/api/v1/envelopes/$ENV/document" "$C"
call POST /api/v1/verify "" -H 'content-type: application/pdf' --data-binary @"$OUT/envelope.pdf" |
  jq -r '"    final document: \(.indication), \(.signatures | length) seals"'
for _ in $(seq 1 50); do
  grep -q envelope.completed "$OUT/webhooks.log" 2>/dev/null && break
  sleep 0.2
done
jq -r '"    webhook: \(.event)  \(.signature[0:20])…"' "$OUT/webhooks.log" 2>/dev/null || true
call GET "/api/v1/envelopes/$ENV/webhook-deliveries" "$C" |
  jq -r '.[] | "    delivery \(.event): \(.status)"'

say "12. trust anchors: recognise another CA's root for verification"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -keyout "$OUT/foreign-ca.key" -out "$OUT/foreign-ca.crt" -subj "/CN=Tour Provincial Root CA $RUN" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
ANCHOR=$(json POST /api/v1/trust-anchors "$P" \
  "$(jq -n --arg pem "$(cat "$OUT/foreign-ca.crt")" --arg name "某省电子认证中心 根CA（导览）" \
    '{label: $name, certificate_pem: $pem}')")
jq -r '"    anchor \(.label): \(.subject), sha256 \(.fingerprint_sha256[0:16])…"' <<<"$ANCHOR"
call DELETE "/api/v1/trust-anchors/$(jq -r .id <<<"$ANCHOR")" "$P"
show "removed again"

say "13. the audit log: every step above, hash-chained"
call GET "/api/v1/audit/events?target_id=$SEAL" "$P" |
  jq -r '.[] | "    #\(.seq) \(.action) by \(.actor)"'
call GET /api/v1/audit/verify "$P" | jq -r '"    chain intact: \(.intact) (\(.events) events)"'

say "done: files in $OUT"
