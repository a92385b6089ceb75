// Package browsertest holds the website's browser test: Debian's Chromium,
// driven headless with chromedp, walks a client's whole case, and then the
// whole long path of a case with every member on their own pages (signed
// in from the link the mail catcher received), through the pages of the
// website that stack/launch starts with the rest of the system, by
// clicking and typing, once with JavaScript and once without. On every
// page it checks what each party may and may not read (the long path
// against the confidentiality table, package confidentiality), the
// security headers, and the WCAG 2.2 A and AA rules with axe-core (the
// copy pinned in tools/package.json), and it saves a screenshot at phone
// and desktop width.
//
// The package has no code of its own outside its tests: it is a place of
// its own because it starts a browser, which the website's other tests do
// not need.
package browsertest
