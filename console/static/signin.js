// Signs in with Firebase Auth (email and password; the Auth emulator in development), then hands the
// ID token to the server, which exchanges it for an httpOnly session cookie. The password never
// reaches our server, and the ID token is not kept in the page.
(function () {
  var form = document.getElementById("signin");
  var error = document.getElementById("signin-error");
  if (!form) {
    return;
  }
  function fail(message) {
    error.textContent = message || form.dataset.failed;
    error.hidden = false;
  }
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    error.hidden = true;
    var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    try {
      var signIn = await fetch(
        form.dataset.toolkit + "/accounts:signInWithPassword?key=" + encodeURIComponent(form.dataset.apiKey),
        {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            email: form.elements.email.value,
            password: form.elements.password.value,
            returnSecureToken: true,
          }),
        },
      );
      if (!signIn.ok) {
        fail();
        return;
      }
      var idToken = (await signIn.json()).idToken;
      var session = await fetch("/console/session", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ idToken: idToken }),
      });
      if (!session.ok) {
        fail();
        return;
      }
      window.location.assign((await session.json()).next);
    } catch (e) {
      fail();
    }
  });
})();
