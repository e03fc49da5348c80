//go:build race

package vendorapi

const raceEnabled = true
