// nav.js: the page links follow the session. Links with data-role show
// only to users of that role; the page's own link (data-page) is marked
// current only while its page shows, not under the login form. (The
// inspector, which makes no request and keeps nothing in the browser,
// knows no role: its admin link stays hidden.)

export function showNav(me) {
  for (const a of document.querySelectorAll('.top nav a[data-role]')) a.hidden = !me || me.role !== a.dataset.role;
  for (const a of document.querySelectorAll('.top nav a[data-page]')) {
    if (me) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}
