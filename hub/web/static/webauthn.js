// Security keys (WebAuthn) for the console: registration on the account page, sign-in on
// the second-step page. The server sends options as JSON (py_webauthn options_to_json);
// the browser parses them with PublicKeyCredential.parse*OptionsFromJSON and sends the
// credential back with toJSON(), so there is no base64 glue here.
(function () {
  "use strict";

  function csrfToken() {
    return document.body.dataset.csrfToken || "";
  }

  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload || {}),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || "refused"); }
        return data;
      });
    });
  }

  function say(text) {
    var status = document.getElementById("webauthn-status");
    if (status) { status.textContent = text; }
  }

  function supported() {
    return window.PublicKeyCredential &&
      typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";
  }

  function register(button) {
    if (!supported()) { say("This browser cannot use security keys."); return; }
    button.disabled = true;
    say("Touch your security key…");
    post(button.dataset.optionsUrl).then(function (options) {
      var publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
      return navigator.credentials.create({ publicKey: publicKey });
    }).then(function (credential) {
      return post(button.dataset.verifyUrl, credential.toJSON());
    }).then(function (result) {
      say("Security key added.");
      if (result.redirect) { window.location.assign(result.redirect); }
    }).catch(function (error) {
      say("The security key was not added: " + error.message);
    }).finally(function () { button.disabled = false; });
  }

  function signIn(button) {
    if (!supported()) { say("This browser cannot use security keys."); return; }
    button.disabled = true;
    say("Touch your security key…");
    post(button.dataset.optionsUrl).then(function (options) {
      var publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
      return navigator.credentials.get({ publicKey: publicKey });
    }).then(function (credential) {
      return post(button.dataset.verifyUrl, credential.toJSON());
    }).then(function (result) {
      window.location.assign(result.redirect);
    }).catch(function (error) {
      say("Sign-in with the security key failed: " + error.message);
      button.disabled = false;
    });
  }

  var registerButton = document.getElementById("webauthn-register");
  if (registerButton) {
    registerButton.addEventListener("click", function () { register(registerButton); });
  }
  var loginButton = document.getElementById("webauthn-login");
  if (loginButton) {
    loginButton.addEventListener("click", function () { signIn(loginButton); });
  }
})();
