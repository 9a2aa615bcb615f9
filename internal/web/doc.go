// Package web is jwtgate's browser UI: plain HTML pages and JavaScript
// modules, embedded in the binary, with no build step and nothing loaded
// from another origin.
//
// Handler serves three pages and their assets:
//
//   - GET /         log in, read and write posts, and a session panel that
//     counts the access token down and refreshes it silently. Reached
//     with ?return=/oauth2/authorize?... (an application's sign-in, the
//     only return it follows), it says which application asks, logs in
//     and goes back to the authorization request.
//   - GET /admin    the users table for admins: add, change role, disable,
//     delete; and the OAuth clients table: register, rotate secret, delete.
//   - GET /inspect  a token inspector that decodes a pasted JWT and
//     verifies it in the browser with WebCrypto; nothing pasted is sent to
//     the server.
//   - GET /ui/...   the JavaScript modules and the style sheet.
//
// The pages log in with {"cookie":true}: the access and refresh tokens
// live in HttpOnly cookies no page script can read, and every
// state-changing request copies the csrf_token cookie into the
// X-CSRF-Token header. Every response carries a strict
// Content-Security-Policy (scripts, styles and fetches from this origin
// only, no inline code), which replaces the API's default-src 'none'.
package web
