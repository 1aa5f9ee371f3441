using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// An in-process ECDSA P-256 self-signed certificate used by both ends (mutual TLS 1.3, as our flows authenticate
/// both peers), and the authentication options that accept exactly that certificate. The validation callback lives
/// only in the options: passing one to the SslStream constructor as well throws. Resumption is off so every
/// handshake is a full one, like the handshakes of the systems compared with it.
/// </summary>
internal sealed class TlsCredentials : IDisposable
{
    private readonly X509Certificate2 _certificate;
    private readonly byte[] _certificateHash;
    private readonly SslStreamCertificateContext _context;

    public TlsCredentials()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(
            new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var now = DateTimeOffset.UtcNow;
        _certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        _certificateHash = _certificate.GetCertHash(HashAlgorithmName.SHA256);
        _context = SslStreamCertificateContext.Create(_certificate, additionalCertificates: null, offline: true);
    }

    /// <summary>Runs both handshakes over a connected socket pair; the streams own their sockets.</summary>
    public async ValueTask<(SslStream Client, SslStream Server)> AuthenticateAsync(
        Socket client, Socket server, CancellationToken cancellationToken)
    {
        var clientStream = new SslStream(new NetworkStream(client, ownsSocket: true), leaveInnerStreamOpen: false);
        var serverStream = new SslStream(new NetworkStream(server, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            var clientOptions = new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = SslProtocols.Tls13,
                ClientCertificateContext = _context,
                RemoteCertificateValidationCallback = IsOurCertificate,
                AllowTlsResume = false,
            };
            var serverOptions = new SslServerAuthenticationOptions
            {
                ServerCertificateContext = _context,
                EnabledSslProtocols = SslProtocols.Tls13,
                ClientCertificateRequired = true,
                RemoteCertificateValidationCallback = IsOurCertificate,
                AllowTlsResume = false,
            };
            var serverHandshake = serverStream.AuthenticateAsServerAsync(serverOptions, cancellationToken);
            await clientStream.AuthenticateAsClientAsync(clientOptions, cancellationToken);
            await serverHandshake;
            return (clientStream, serverStream);
        }
        catch
        {
            await clientStream.DisposeAsync();
            await serverStream.DisposeAsync();
            throw;
        }
    }

    // A self-signed certificate never chains to a trusted root, so the chain errors are expected: what matters is
    // that the peer presented exactly our certificate.
    private bool IsOurCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null
        && (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0
        && certificate.GetCertHash(HashAlgorithmName.SHA256).AsSpan().SequenceEqual(_certificateHash);

    public void Dispose()
    {
        _certificate.Dispose();
    }
}
