package report

// CKLB document. Field order follows the files STIG Viewer 3 writes.
type cklbDoc struct {
	Title       string         `json:"title"`
	ID          string         `json:"id"`
	Active      bool           `json:"active"`
	Mode        int            `json:"mode"`
	HasPath     bool           `json:"has_path"`
	TargetData  cklbTargetData `json:"target_data"`
	Stigs       []cklbStig     `json:"stigs"`
	CKLBVersion string         `json:"cklb_version"`
}

type cklbTargetData struct {
	TargetType     string `json:"target_type"`
	HostName       string `json:"host_name"`
	IPAddress      string `json:"ip_address"`
	MACAddress     string `json:"mac_address"`
	FQDN           string `json:"fqdn"`
	Comments       string `json:"comments"`
	Role           string `json:"role"`
	IsWebDatabase  bool   `json:"is_web_database"`
	TechnologyArea string `json:"technology_area"`
	WebDBSite      string `json:"web_db_site"`
	WebDBInstance  string `json:"web_db_instance"`
}

type cklbStig struct {
	StigName            string     `json:"stig_name"`
	DisplayName         string     `json:"display_name"`
	StigID              string     `json:"stig_id"`
	ReleaseInfo         string     `json:"release_info"`
	Version             string     `json:"version"`
	UUID                string     `json:"uuid"`
	ReferenceIdentifier string     `json:"reference_identifier"`
	Size                int        `json:"size"`
	Rules               []cklbRule `json:"rules"`
}

type cklbRule struct {
	UUID                     string            `json:"uuid"`
	StigUUID                 string            `json:"stig_uuid"`
	TargetKey                *string           `json:"target_key"`
	StigRef                  *string           `json:"stig_ref"`
	GroupID                  string            `json:"group_id"`
	GroupIDSrc               string            `json:"group_id_src"`
	RuleID                   string            `json:"rule_id"`
	RuleIDSrc                string            `json:"rule_id_src"`
	Weight                   string            `json:"weight"`
	Classification           string            `json:"classification"`
	Severity                 string            `json:"severity"`
	RuleVersion              string            `json:"rule_version"`
	GroupTitle               string            `json:"group_title"`
	RuleTitle                string            `json:"rule_title"`
	FixText                  string            `json:"fix_text"`
	FalsePositives           string            `json:"false_positives"`
	FalseNegatives           string            `json:"false_negatives"`
	Discussion               string            `json:"discussion"`
	CheckContent             string            `json:"check_content"`
	Documentable             string            `json:"documentable"`
	Mitigations              string            `json:"mitigations"`
	PotentialImpacts         string            `json:"potential_impacts"`
	ThirdPartyTools          string            `json:"third_party_tools"`
	MitigationControl        string            `json:"mitigation_control"`
	Responsibility           string            `json:"responsibility"`
	SecurityOverrideGuidance string            `json:"security_override_guidance"`
	IAControls               string            `json:"ia_controls"`
	CheckContentRef          cklbRef           `json:"check_content_ref"`
	LegacyIDs                []string          `json:"legacy_ids"`
	CCIs                     []string          `json:"ccis"`
	GroupTree                []cklbGroup       `json:"group_tree"`
	CreatedAt                string            `json:"createdAt"`
	UpdatedAt                string            `json:"updatedAt"`
	STIGUuid                 string            `json:"STIGUuid"`
	Status                   string            `json:"status"`
	Overrides                map[string]string `json:"overrides"`
	Comments                 string            `json:"comments"`
	FindingDetails           string            `json:"finding_details"`
}

type cklbRef struct {
	Href string `json:"href"`
	Name string `json:"name"`
}

type cklbGroup struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}
