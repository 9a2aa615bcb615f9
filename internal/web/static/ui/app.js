// app.js: the posts page (GET /).
import { api, describe, isSessionEnd } from './api.js';
import { startSession } from './session.js';
import { flowReturn, startSignIn } from './signin.js';

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 10;

let me = null;
let cursor = '';
let loading = false;

const canWrite = (role) => role === 'editor' || role === 'admin';
const sameName = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();

function renderForm() {
  const slot = $('post-form-slot');
  slot.replaceChildren();
  if (!me || !canWrite(me.role)) return; // readers get no form at all
  slot.append($('post-form-template').content.cloneNode(true));
  $('post-form').addEventListener('submit', createPost);
}

function renderPost(p) {
  const li = $('post-template').content.firstElementChild.cloneNode(true);
  li.dataset.id = String(p.id);
  li.querySelector('.post-title').textContent = p.title;
  li.querySelector('.post-author').textContent = p.author;
  const t = li.querySelector('.post-time');
  t.dateTime = p.created_at;
  t.textContent = new Date(p.created_at).toLocaleString();
  li.querySelector('.post-body').textContent = p.body;
  const del = li.querySelector('.post-delete');
  if (me && (me.role === 'admin' || sameName(p.author, me.name))) {
    del.setAttribute('aria-label', `Delete post “${p.title}”`);
    del.addEventListener('click', () => deletePost(p, li, del));
  } else {
    del.remove();
  }
  return li;
}

async function loadPosts(reset) {
  if (loading) return;
  loading = true;
  const more = $('more');
  more.disabled = true;
  $('posts-error').textContent = '';
  try {
    let path = `/posts?limit=${PAGE_SIZE}`;
    if (!reset && cursor) path += `&cursor=${encodeURIComponent(cursor)}`;
    const page = await api('GET', path);
    const list = $('post-list');
    if (reset) list.replaceChildren();
    for (const p of page.posts) list.append(renderPost(p));
    cursor = page.next_cursor || '';
    more.hidden = !cursor;
    $('posts-empty').hidden = list.children.length > 0;
  } catch (e) {
    if (!isSessionEnd(e)) $('posts-error').textContent = 'Could not load posts: ' + describe(e);
  } finally {
    loading = false;
    more.disabled = false;
  }
}

async function createPost(ev) {
  ev.preventDefault();
  const title = $('post-title').value.trim();
  const body = $('post-body').value.trim();
  const err = $('post-error');
  if (!title || !body) {
    err.textContent = 'Give the post a title and some text.';
    return;
  }
  const btn = $('post-submit');
  btn.disabled = true;
  err.textContent = '';
  try {
    const p = await api('POST', '/posts', { title, body });
    $('post-list').prepend(renderPost(p));
    $('posts-empty').hidden = true;
    $('post-form').reset();
    $('post-title').focus();
  } catch (e) {
    err.textContent = describe(e);
  } finally {
    btn.disabled = false;
  }
}

async function deletePost(p, li, btn) {
  if (btn.dataset.confirm !== 'yes') { // two steps, no modal dialog
    btn.dataset.confirm = 'yes';
    btn.textContent = 'Really delete?';
    return;
  }
  btn.disabled = true;
  try {
    await api('DELETE', `/posts/${p.id}`);
    const next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    $('posts-empty').hidden = $('post-list').children.length > 0;
    next?.querySelector('button')?.focus();
  } catch (e) {
    btn.disabled = false;
    $('posts-error').textContent = 'Could not delete: ' + describe(e);
  }
}

$('more').addEventListener('click', () => loadPosts(false));

const flow = flowReturn(location);
if (flow) startSignIn(flow);
else startSession({
  onIn(m) {
    me = m;
    renderForm();
    loadPosts(true);
  },
  onOut() {
    me = null;
    cursor = '';
    renderForm();
    $('post-list').replaceChildren();
    $('more').hidden = true;
    $('posts-empty').hidden = true;
  },
});
