module github.com/hvaudit/hvaudit

go 1.26.8

require (
	github.com/BurntSushi/toml v1.5.0 // indirect
	github.com/google/cel-go v0.26.1 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-isatty v0.0.19 // indirect
	github.com/rs/zerolog v1.34.0 // indirect
	github.com/spf13/cobra v1.10.1 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	github.com/vmware/govmomi v0.52.0 // indirect
	golang.org/x/sys v0.12.0 // indirect
)
