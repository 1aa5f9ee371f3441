using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FlowOrleans.GrainInterfaces.Security;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// A throwaway certificate authority and the certificates tests need, written as PEM files into a temporary directory,
/// as an operator would mount them: a silo certificate (server and client authentication), a client certificate (client
/// authentication only), and the same pair from a second, untrusted authority.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private const string ServerAuth = ClusterCertificates.ServerAuthentication;
    private const string ClientAuth = ClusterCertificates.ClientAuthentication;

    private TestCertificates(string directory) => Directory = directory;

    public string Directory { get; }

    public string CaCertificatePath => Path.Combine(Directory, "ca.pem");

    public (string Certificate, string Key) Silo => Pair("silo");

    public (string Certificate, string Key) Client => Pair("client");

    public (string Certificate, string Key) RogueClient => Pair("rogue-client");

    public (string Certificate, string Key) RogueSilo => Pair("rogue-silo");

    public static TestCertificates Create()
    {
        var directory = Path.Combine(Path.GetTempPath(), "flow-tls-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        var certificates = new TestCertificates(directory);
        using var ca = Authority("FlowOrleans test CA");
        using var rogue = Authority("Somebody else's CA");
        File.WriteAllText(certificates.CaCertificatePath, ca.Certificate.ExportCertificatePem());
        certificates.Issue(ca, "silo", ServerAuth, ClientAuth);
        certificates.Issue(ca, "client", ClientAuth);
        certificates.Issue(rogue, "rogue-client", ClientAuth);
        certificates.Issue(rogue, "rogue-silo", ServerAuth, ClientAuth);
        return certificates;
    }

    /// <summary>The <c>--Silo:Tls:*</c> settings of the Silo program for <paramref name="pair"/>.</summary>
    public string[] SiloSettings((string Certificate, string Key) pair) =>
        [$"--Silo:Tls:CertificatePath={pair.Certificate}", $"--Silo:Tls:PrivateKeyPath={pair.Key}", $"--Silo:Tls:CaCertificatePath={CaCertificatePath}"];

    /// <summary>Loads <paramref name="pair"/> with this authority, as a silo or client would.</summary>
    public ClusterCertificates Load((string Certificate, string Key) pair) =>
        ClusterCertificates.Load(new ClusterTlsOptions { CertificatePath = pair.Certificate, PrivateKeyPath = pair.Key, CaCertificatePath = CaCertificatePath }, "test");

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private (string, string) Pair(string name) => (Path.Combine(Directory, name + ".pem"), Path.Combine(Directory, name + ".key"));

    private static Issuer Authority(string name)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return new Issuer(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)), key);
    }

    private void Issue(Issuer issuer, string name, params string[] usages)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var eku = new OidCollection();
        foreach (var usage in usages)
        {
            eku.Add(new Oid(usage));
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(eku, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer.Certificate, true, false));
        using var issued = request.Create(issuer.Certificate, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(16));
        var (certificate, keyPath) = Pair(name);
        File.WriteAllText(certificate, issued.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
    }

    private sealed record Issuer(X509Certificate2 Certificate, ECDsa Key) : IDisposable
    {
        public void Dispose()
        {
            Certificate.Dispose();
            Key.Dispose();
        }
    }
}
