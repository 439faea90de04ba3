package bansosbot

import (
	"slices"
	"testing"
)

func TestStaffCoversAt(t *testing.T) {
	s := &Staff{Role: RoleSupervisor, Active: true, Regions: []RegionCode{"32.01", "33"}}
	nat := &Staff{Role: RoleSupervisor, Active: true, Regions: []RegionCode{""}}
	tests := []struct {
		s      *Staff
		region RegionCode
		level  int
		want   bool
	}{
		{s, "32.01.05", 2, true},
		{s, "32.01.05", 1, false}, // covers it, but at kabupaten level
		{s, "32.02.05", 2, false},
		{s, "33.10.01", 1, true},
		{s, "33.10.01", 2, false},
		{s, "32.01.05", 0, false},
		{nat, "32.01.05", 0, true},
		{nat, "32.01.05", 1, false},
		{&Staff{Role: RoleSupervisor, Regions: []RegionCode{"32.01"}}, "32.01.05", 2, false}, // inactive
	}
	for _, tt := range tests {
		if got := tt.s.CoversAt(tt.region, tt.level); got != tt.want {
			t.Errorf("%v.CoversAt(%q, %d) = %v; want %v", tt.s.Regions, tt.region, tt.level, got, tt.want)
		}
	}
}

func TestStaffMayHandle(t *testing.T) {
	tk := &Ticket{Region: "32.01.05"}
	tests := []struct {
		name       string
		s          *Staff
		restricted bool
		want       bool
	}{
		{"worker of the kecamatan", &Staff{Role: RoleWorker, Active: true, Regions: []RegionCode{"32.01.05"}}, false, true},
		{"worker of the kabupaten", &Staff{Role: RoleWorker, Active: true, Regions: []RegionCode{"32.01"}}, false, true},
		{"worker elsewhere", &Staff{Role: RoleWorker, Active: true, Regions: []RegionCode{"32.01.06"}}, false, false},
		{"removed worker", &Staff{Role: RoleWorker, Regions: []RegionCode{"32.01.05"}}, false, false},
		{"worker on a restricted ticket", &Staff{Role: RoleWorker, Active: true, Regions: []RegionCode{"32.01"}}, true, false},
		{"kabupaten supervisor, restricted", &Staff{Role: RoleSupervisor, Active: true, Regions: []RegionCode{"32.01"}}, true, true},
		{"kecamatan supervisor, restricted", &Staff{Role: RoleSupervisor, Active: true, Regions: []RegionCode{"32.01.05"}}, true, false},
		{"supervisor also covering the kecamatan", &Staff{Role: RoleSupervisor, Active: true, Regions: []RegionCode{"32", "32.01.05"}}, true, false},
		{"village supervisor, restricted", &Staff{Role: RoleSupervisor, Active: true, Regions: []RegionCode{"32.01.05.2001"}}, true, false},
		{"national supervisor, restricted", &Staff{Role: RoleSupervisor, Active: true, Regions: []RegionCode{""}}, true, true},
		{"admin, restricted", &Staff{Role: RoleAdmin, Active: true}, true, true},
	}
	for _, tt := range tests {
		if got := tt.s.MayHandle(tk, tt.restricted); got != tt.want {
			t.Errorf("%s: MayHandle = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseRegionList(t *testing.T) {
	got, err := ParseRegionList("32.01, 3202,nasional,32.01")
	if err != nil || !slices.Equal(got, []RegionCode{"32.01", "32.02", ""}) {
		t.Errorf("ParseRegionList = %q, %v", got, err)
	}
	if _, err := ParseRegionList("32.01,x"); ErrorKey(err) != "region.bad_code" {
		t.Errorf("bad list: err = %v; want region.bad_code", err)
	}
	if _, err := ParseRegionList(""); err == nil {
		t.Error("empty list accepted")
	}
}

func TestCheckAssignment(t *testing.T) {
	rs := DefaultRegions()
	tests := []struct {
		role    Role
		regions []RegionCode
		key     string
	}{
		{RoleWorker, []RegionCode{"32.01.01"}, ""},
		{RoleWorker, []RegionCode{"32.01", "32.02"}, ""},
		{RoleSupervisor, []RegionCode{""}, ""},
		{RoleAdmin, nil, ""},
		{RoleWorker, nil, "staff.invite_bad_region"},
		{RoleWorker, []RegionCode{""}, "staff.invite_bad_region"},
		{RoleSupervisor, []RegionCode{"99.99"}, "staff.invite_bad_region"},
		{"boss", []RegionCode{"32"}, "staff.invite_bad_role"},
	}
	for _, tt := range tests {
		if got := ErrorKey(CheckAssignment(tt.role, tt.regions, rs)); got != tt.key {
			t.Errorf("CheckAssignment(%s, %q) = %q; want %q", tt.role, tt.regions, got, tt.key)
		}
	}
}
