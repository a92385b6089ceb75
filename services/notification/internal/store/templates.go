package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/jackc/pgx/v5"
)

var _ dispatch.TemplateStore = (*Store)(nil)

const overrideColumns = `group_name, template, subject, text_body, html_body, update_time, updated_by`

func scanOverride(row pgx.Row) (dispatch.TemplateOverride, error) {
	var o dispatch.TemplateOverride
	err := row.Scan(&o.Group, &o.Template, &o.Subject, &o.Text, &o.HTML, &o.UpdateTime, &o.UpdatedBy)
	return o, err
}

// TemplateOverride implements dispatch.TemplateStore.
func (s *Store) TemplateOverride(ctx context.Context, group, key string) (dispatch.TemplateOverride, error) {
	o, err := scanOverride(s.Pool.QueryRow(ctx, `SELECT `+overrideColumns+` FROM template_overrides
		WHERE group_name = $1 AND template = $2`, group, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return dispatch.TemplateOverride{}, dispatch.ErrNotFound
	}
	if err != nil {
		return dispatch.TemplateOverride{}, unreachable(fmt.Errorf("get template override: %w", err))
	}
	return o, nil
}

// TemplateOverrides implements dispatch.TemplateStore.
func (s *Store) TemplateOverrides(ctx context.Context, group string) ([]dispatch.TemplateOverride, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+overrideColumns+` FROM template_overrides WHERE group_name = $1 ORDER BY template`, group)
	if err != nil {
		return nil, fmt.Errorf("list template overrides: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatch.TemplateOverride, error) { return scanOverride(r) })
	if err != nil {
		return nil, fmt.Errorf("list template overrides: %w", err)
	}
	return out, nil
}

// PutTemplateOverride implements dispatch.TemplateStore.
func (s *Store) PutTemplateOverride(ctx context.Context, o dispatch.TemplateOverride) error {
	if o.IsZero() {
		if _, err := s.Pool.Exec(ctx, `DELETE FROM template_overrides WHERE group_name = $1 AND template = $2`, o.Group, o.Template); err != nil {
			return fmt.Errorf("remove template override: %w", err)
		}
		return nil
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO template_overrides (`+overrideColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (group_name, template) DO UPDATE SET subject = EXCLUDED.subject, text_body = EXCLUDED.text_body,
			html_body = EXCLUDED.html_body, update_time = EXCLUDED.update_time, updated_by = EXCLUDED.updated_by`,
		o.Group, o.Template, o.Subject, o.Text, o.HTML, o.UpdateTime, o.UpdatedBy)
	if err != nil {
		return fmt.Errorf("store template override: %w", err)
	}
	return nil
}
