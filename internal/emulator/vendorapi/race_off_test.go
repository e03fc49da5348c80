//go:build !race

package vendorapi

const raceEnabled = false
