// The TLS files a program is given, loaded once before CAF's openssl module
// uses them: CAF loads them on each connection and throws on its network
// thread when one is bad, so a bad file must be a clear error at start-up.
// Header-only: only the programs that link OpenSSL include it.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace rcmgr::tls {

/// OpenSSL's queued errors as one line (and the queue emptied).
inline std::string openssl_errors() {
  std::string out;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    out += (out.empty() ? "" : "; ") + std::string{buf};
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

/// A CA file and how an error names it ("--tls-ca", "the CA file").
using named_ca = std::pair<const char*, const std::string*>;

/// Loads the certificate (--tls-cert), the key (--tls-key, which must match
/// it) and each CA file; empty when all are usable, else what is wrong.
inline std::string check_files(const std::string& cert, const std::string& key,
                               std::initializer_list<named_ca> cas) {
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx{SSL_CTX_new(TLS_method()),
                                                   SSL_CTX_free};
  if (!ctx)
    return "cannot create an OpenSSL context: " + openssl_errors();
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1)
    return "cannot load --tls-cert '" + cert + "': " + openssl_errors();
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
    return "cannot load --tls-key '" + key + "': " + openssl_errors();
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return "--tls-key does not match --tls-cert: " + openssl_errors();
  for (auto [name, path] : cas)
    if (SSL_CTX_load_verify_locations(ctx.get(), path->c_str(), nullptr) != 1)
      return std::string{"cannot load "} + name + " '" + *path + "': " + openssl_errors();
  return {};
}

} // namespace rcmgr::tls
