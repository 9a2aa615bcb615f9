package jwt

var raceEnabled bool
