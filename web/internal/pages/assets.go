package pages

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// staticFiles are the stylesheet, the script and the icon, served under
// names that carry a hash of their content (site.3f2a9c1b0d.css), so that
// browsers may keep each for a year and a new version is a new name.
//
//go:embed static
var staticFiles embed.FS

// asset is one static file.
type asset struct {
	hashed      string
	contentType string
	body        []byte
}

// assets are the static files by their plain names (site.css) and by their
// hashed names.
type assets struct {
	byName, byHashed map[string]*asset
}

func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byHashed: map[string]*asset{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := path.Base(p)
		ext := path.Ext(name)
		sum := sha256.Sum256(body)
		contentType := mime.TypeByExtension(ext)
		if contentType == "" {
			return fmt.Errorf("static file %s: no content type for %q", name, ext)
		}
		f := &asset{
			hashed:      strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext,
			contentType: contentType,
			body:        body,
		}
		a.byName[name], a.byHashed[f.hashed] = f, f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	return a, nil
}

// path is the URL of the static file named name (site.css), for templates;
// it fails the template for a name that is not there.
func (a *assets) path(name string) (string, error) {
	f, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + f.hashed, nil
}

// serve answers GET /static/{file} with the file of that hashed name,
// cached for a year: its name changes with its content. Any other name is
// notFound's.
func (a *assets) serve(w http.ResponseWriter, r *http.Request, notFound http.HandlerFunc) {
	f, ok := a.byHashed[r.PathValue("file")]
	if !ok {
		notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(f.body)
}
