package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// The reference page, /reference: the OpenAPI document (/openapi.json)
// rendered for people by Redoc. The page is Redoc's standalone bundle,
// reference/redoc.standalone.js, a copy of the one in the redoc npm package
// pinned in tools/package.json (make generate copies it, make
// check-generated fails while the two differ, so an upgrade is a deliberate
// change), with its licences beside it, served from the binary.
//
// The page asks no other host for anything: the bundle loads no fonts (the
// page names the system's own), the document comes from this gateway, and
// the Content-Security-Policy lets the browser fetch from this origin only.
// That policy also stops the one request the bundle would make elsewhere,
// the Redocly logo under its menu (an image from Redocly's CDN, which it
// hides when the image fails).

//go:embed reference
var referenceFiles embed.FS

// referencePolicy is the Content-Security-Policy of the reference page and
// its files: this origin only, plus what the bundle needs: inline styles
// (it builds its CSS at run time, as styled-components does), images from
// data: URLs (its icons), and a worker from a blob: URL (its search index).
const referencePolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// referencePage is the page itself. Its URLs are relative, so that it works
// behind a proxy that serves the gateway under a path of its own.
const referencePage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>IPN disputes mediation API: reference</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<noscript>This page needs JavaScript. The API's OpenAPI document is at <a href="openapi.json">openapi.json</a>.</noscript>
<div id="redoc"></div>
<script src="reference/redoc.standalone.js"></script>
<script src="reference/init.js"></script>
</body>
</html>
`

// referenceInit starts Redoc on the document. The fonts are the system's:
// Redoc's own (Roboto, Montserrat) would have to come from another host.
const referenceInit = `"use strict";
(function () {
  var system = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  Redoc.init("openapi.json", {
    expandResponses: "200",
    hideHostname: true,
    jsonSampleExpandLevel: 3,
    pathInMiddlePanel: true,
    requiredPropsFirst: true,
    sortPropsAlphabetically: false,
    theme: {
      typography: {
        fontFamily: system,
        headings: { fontFamily: system },
        code: { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' }
      }
    }
  }, document.getElementById("redoc"));
})();
`

// referenceAsset is one file the page loads, or a licence.
type referenceAsset struct {
	body        []byte
	contentType string
	etag        string
}

// newReferenceAsset computes the file's ETag once, so that a browser that
// has it is answered 304.
func newReferenceAsset(body []byte, contentType string) referenceAsset {
	sum := sha256.Sum256(body)
	return referenceAsset{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// serve writes the asset with the reference page's security headers.
func (a referenceAsset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Security-Policy", referencePolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// Kept, but checked on each use: a new gateway may bring a new bundle.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// mountReference adds the reference page and its files to mux:
// GET /reference, and GET /reference/{file} for the bundle, the script that
// starts it and the licences.
func mountReference(mux *http.ServeMux) {
	assets := referenceAssets()
	page := newReferenceAsset([]byte(referencePage), "text/html; charset=utf-8")
	mux.HandleFunc("GET /reference", page.serve)
	mux.HandleFunc("GET /reference/{file}", func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.PathValue("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r)
	})
}

// referenceAssets are the files under /reference/, by name: the embedded
// ones and init.js.
func referenceAssets() map[string]referenceAsset {
	assets := map[string]referenceAsset{
		"init.js": newReferenceAsset([]byte(referenceInit), "text/javascript; charset=utf-8"),
	}
	entries, err := referenceFiles.ReadDir("reference")
	if err != nil {
		// The folder is in the binary: only a broken build lacks it.
		panic("reference page: " + err.Error())
	}
	for _, e := range entries {
		body, err := referenceFiles.ReadFile("reference/" + e.Name())
		if err != nil {
			panic("reference page: " + err.Error())
		}
		contentType := "text/plain; charset=utf-8"
		if strings.HasSuffix(e.Name(), ".js") {
			contentType = "text/javascript; charset=utf-8"
		}
		assets[e.Name()] = newReferenceAsset(body, contentType)
	}
	return assets
}
