package migrations

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCheckApplied(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		ms, err := List(dialect)
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		for _, m := range ms {
			all = append(all, m.Version)
		}
		latest := ms[len(ms)-1].Num
		tests := []struct {
			name    string
			applied []string
			want    string // "" for no error
		}{
			{"empty", nil, ""},
			{"first only", all[:1], ""},
			{"all", all, ""},
			{"one newer", append(all[:len(all):len(all)], fmt.Sprintf("%03d_future", latest+1)),
				fmt.Sprintf("database schema %d is newer than this jwtgate (%d); upgrade jwtgate", latest+1, latest)},
			{"the newest named", append(all[:len(all):len(all)], fmt.Sprintf("%03d_a", latest+7), fmt.Sprintf("%03d_b", latest+2)),
				fmt.Sprintf("database schema %d is newer than this jwtgate (%d); upgrade jwtgate", latest+7, latest)},
			{"same number, other name", append(all[:1:1], "002_something_else"),
				"database has migration 002_something_else, which this jwtgate (schema " + fmt.Sprint(latest) + ") does not know"},
		}
		for _, tc := range tests {
			t.Run(dialect+"/"+tc.name, func(t *testing.T) {
				err := CheckApplied(dialect, tc.applied)
				if tc.want == "" {
					if err != nil {
						t.Fatalf("CheckApplied: %v", err)
					}
					return
				}
				if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("CheckApplied: %v, want ErrSchemaTooNew saying %q", err, tc.want)
				}
			})
		}
	}
}
