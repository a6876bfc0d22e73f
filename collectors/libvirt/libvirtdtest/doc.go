// Package libvirtdtest runs a real libvirtd for the KVM tests (Linux only).
package libvirtdtest
