#!/usr/bin/env bash
# Lighthouse's accessibility and best-practices scores of the client's and
# the members' pages, against the website of a running `make run` (WEB, by
# default http://127.0.0.1:7190). It raises a concern through the website as a
# browser would, so that it has a case and a session, and, with the demo
# members' tokens that make run writes to .data/demo.env, takes the
# members' first steps over REST (a support person appointed, a meeting
# offered) so that the case's pages have their forms. A member (Alex
# Morgan, the demo's admin and the case's support person) signs in as a
# member does: the members' sign-in form, the link read from make run's
# mail viewer (MAIL_VIEWER, by default http://127.0.0.1:7181), the link
# page's button. Then it runs lighthouse (tools/package.json, 12.2.3) with
# Debian's Chromium on each page, mobile emulation as Lighthouse does by
# default, prints the scores and every audit that failed, and exits 1 when
# a score is under 100. Reports are kept in .data/lighthouse.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[[ -f .data/demo.env ]] && source .data/demo.env
WEB=${WEB:-http://127.0.0.1:7190}
GROUP=${GROUP:-riverside}
LIGHTHOUSE=$root/tools/node_modules/.bin/lighthouse
export CHROME_PATH=${CHROMIUM:-/usr/bin/chromium}
out=$root/.data/lighthouse
mkdir -p "$out"

if [[ ! -x $LIGHTHOUSE ]]; then echo "lighthouse is not installed: make tools (or cd tools && npm ci)" >&2; exit 2; fi
if ! curl -fsS -o /dev/null "$WEB/healthz"; then echo "No website at $WEB: start the system with make run first (or set WEB)." >&2; exit 2; fi

# A concern, raised through the website's form; the cookie jar keeps the
# session it signs in to.
jar=$(mktemp); trap 'rm -f "$jar"' EXIT
form=$(curl -fsS -c "$jar" "$WEB/$GROUP/concern")
request_id=$(sed -n 's/.*name="requestId" id="request-id" value="\([^"]*\)".*/\1/p' <<<"$form")
confirmation=$(curl -fsS -b "$jar" -c "$jar" -H "Origin: $WEB" -H "Sec-Fetch-Site: same-origin" \
	--data-urlencode "requestId=$request_id" --data-urlencode "practitioner=cal-reyes" \
	--data-urlencode "description=Our sessions stopped without a word. (Lighthouse)" \
	--data-urlencode "clientName=Lighthouse" --data-urlencode "email=lighthouse@client.example.net" \
	"$WEB/$GROUP/concern")
case_path=$(grep -o 'href="/'"$GROUP"'/cases/[0-9a-z-]*"' <<<"$confirmation" | head -1 | cut -d'"' -f2)
if [[ -z $case_path ]]; then echo "The concern form did not lead to a case:" >&2; echo "$confirmation" | head -40 >&2; exit 1; fi
cookie=$(awk '$6 ~ /session$/ {print $6 "=" $7}' "$jar")
echo "A concern raised: $WEB$case_path"

# The members' first steps, when make run's tokens are at hand.
if [[ -n ${ALEX_TOKEN:-} && -n ${API:-} ]]; then
	case_name=${case_path#/$GROUP/}
	case_name="groups/$GROUP/$case_name"
	step() { # token, JSON body
		local answer
		if ! answer=$(curl -sS -w '\n%{http_code}' -H "Authorization: Bearer $1" -H "Content-Type: application/json" -d "$2" "$API/v1/$case_name:takeStep") ||
			[[ ${answer##*$'\n'} != 200 ]]; then
			echo "A member's step failed: $2" >&2; echo "$answer" >&2; exit 1
		fi
	}
	for _ in $(seq 50); do
		curl -fsS -o /dev/null -H "Authorization: Bearer $FRAN_TOKEN" "$API/v1/$case_name" && break
		sleep 0.2
	done
	in_a_week=$(date -u -d '+8 days 10:00' +%Y-%m-%dT%H:00:00Z)
	an_hour_later=$(date -u -d '+8 days 11:00' +%Y-%m-%dT%H:00:00Z)
	next_day=$(date -u -d '+9 days 14:00' +%Y-%m-%dT%H:00:00Z)
	next_day_later=$(date -u -d '+9 days 15:00' +%Y-%m-%dT%H:00:00Z)
	step "$CAL_TOKEN" '{"step":"nominate_spt","member":"groups/'"$GROUP"'/members/eli-nakamura"}'
	step "$ELI_TOKEN" '{"step":"answer_spt_nomination","outcome":"ACCEPTED"}'
	step "$DANA_TOKEN" '{"step":"appoint_spc_and_lp","appointment":{"spc":"groups/'"$GROUP"'/members/alex-morgan","lp":"groups/'"$GROUP"'/members/bea-lindqvist"}}'
	step "$ALEX_TOKEN" '{"step":"offer_client_meeting","meetingProposal":{"slots":[{"startTime":"'"$in_a_week"'","endTime":"'"$an_hour_later"'"},{"startTime":"'"$next_day"'","endTime":"'"$next_day_later"'"}],"location":"The group'"'"'s room"}}'
	echo "The members appointed a support person, who offered a meeting."
else
	echo "No .data/demo.env with the members' tokens: the case's pages are checked as they are before any member acts."
fi

# A member signs in from the link the mail viewer received.
member_cookie=""
MAIL_VIEWER=${MAIL_VIEWER:-http://127.0.0.1:7181}
if [[ -n ${ALEX_TOKEN:-} ]] && curl -fsS -o /dev/null "$MAIL_VIEWER/api/v1/messages?limit=1"; then
	member_jar=$(mktemp); trap 'rm -f "$jar" "$member_jar"' EXIT
	address=alex.morgan@riverside.example.org
	before=$(curl -fsS -G "$MAIL_VIEWER/api/v1/search" --data-urlencode "query=to:$address subject:\"to sign in\"" | grep -o '"ID":"[^"]*"' | head -1 || true)
	curl -fsS -o /dev/null -c "$member_jar" -H "Origin: $WEB" -H "Sec-Fetch-Site: same-origin" --data-urlencode "email=$address" "$WEB/$GROUP/members/sign-in"
	secret=""
	for _ in $(seq 100); do   # the mail leaves just after the answer
		newest=$(curl -fsS -G "$MAIL_VIEWER/api/v1/search" --data-urlencode "query=to:$address subject:\"to sign in\"" | grep -o '"ID":"[^"]*"' | head -1 || true)
		if [[ -n $newest && $newest != "$before" ]]; then
			secret=$(curl -fsS "$MAIL_VIEWER/api/v1/message/$(cut -d'"' -f4 <<<"$newest")" | grep -o 'sign-in/[a-z2-7]*' | head -1 | cut -d/ -f2)
			break
		fi
		sleep 0.1
	done
	if [[ -z $secret ]]; then echo "The member's sign-in link did not arrive in $MAIL_VIEWER" >&2; exit 1; fi
	curl -fsS -o /dev/null -b "$member_jar" -c "$member_jar" -H "Origin: $WEB" -H "Sec-Fetch-Site: same-origin" -X POST "$WEB/$GROUP/sign-in/$secret"
	member_cookie=$(awk '$6 ~ /session$/ {print $6 "=" $7}' "$member_jar")
	echo "Alex Morgan signed in as a member."
else
	echo "No mail viewer or members' tokens: the members' pages are not checked."
fi
member_case=/$GROUP/members/${case_path#/$GROUP/}
# The first step the member may take on the case, to check a step's form.
member_step=""
if [[ -n $member_cookie ]]; then
	member_step=$(curl -fsS -H "Cookie: $member_cookie" "$WEB$member_case" | grep -o 'href="[^"]*/steps/[a-z_]*"' | head -1 | cut -d'"' -f2 || true)
fi

pages=(
	"group|/$GROUP/|"
	"ethical-statement|/$GROUP/statement|"
	"concern-form|/$GROUP/concern|"
	"sign-in|/$GROUP/sign-in|"
	"case|$case_path|private"
	"meetings|$case_path/meetings|private"
	"written-statement|$case_path/written-statement|private"
	"response|$case_path/response|private"
	"messages|$case_path/messages|private"
	"withdraw|$case_path/withdraw|private"
)
if [[ -n $member_cookie ]]; then
	pages+=(
		"my-work|/$GROUP/members/|member"
		"member-case|$member_case|member"
		"member-concern|$member_case/concern|member"
		"member-documents|$member_case/documents|member"
		"member-meetings|$member_case/meetings|member"
		"member-messages|$member_case/messages|member"
		"member-notes|$member_case/notes|member"
		"member-sessions|/$GROUP/members/sessions|member"
		"admin|/$GROUP/members/admin/|member"
		"admin-members|/$GROUP/members/admin/members|member"
		"admin-link-groups|/$GROUP/members/admin/link-groups|member"
		"admin-statement|/$GROUP/members/admin/statement|member"
		"admin-settings|/$GROUP/members/admin/settings|member"
		"admin-templates|/$GROUP/members/admin/templates|member"
		"admin-deliveries|/$GROUP/members/admin/deliveries|member"
		"admin-subject-access|/$GROUP/members/admin/subject-access|member"
	)
	if [[ -n $member_step ]]; then pages+=("member-step|$member_step|member"); fi
fi
for p in "${pages[@]}"; do
	IFS='|' read -r name path private <<<"$p"
	headers=()
	case $private in
	private) headers=(--extra-headers "{\"Cookie\": \"$cookie\"}") ;;
	member) headers=(--extra-headers "{\"Cookie\": \"$member_cookie\"}") ;;
	esac
	echo "lighthouse $name ($path)"
	"$LIGHTHOUSE" "$WEB$path" --quiet --no-enable-error-reporting --only-categories=accessibility,best-practices \
		--chrome-flags="--headless=new --no-sandbox" --disable-full-page-screenshot \
		--output=json --output-path="$out/$name.json" "${headers[@]}"
done

node - "$out" "${pages[@]}" <<'EOF'
const fs = require("fs");
const [out, ...pages] = process.argv.slice(2);
let short = false;
console.log("\npage                 accessibility  best-practices");
for (const p of pages) {
  const name = p.split("|")[0];
  const r = JSON.parse(fs.readFileSync(`${out}/${name}.json`, "utf8"));
  const score = (c) => Math.round(r.categories[c].score * 100);
  const a = score("accessibility"), b = score("best-practices");
  console.log(`${name.padEnd(20)} ${String(a).padStart(13)}  ${String(b).padStart(14)}`);
  for (const c of ["accessibility", "best-practices"]) {
    for (const ref of r.categories[c].auditRefs) {
      const audit = r.audits[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
        short = true;
        console.log(`    ${c}: ${audit.id}: ${audit.title}`);
      }
    }
  }
  if (r.runtimeError) console.log(`    error: ${r.runtimeError.message}`);
}
if (short) { console.log("\nA score is under 100: the audits above say why."); process.exit(1); }
EOF
