using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FlowOrleans.Transport;

namespace FlowOrleans.GrainInterfaces.Security;

/// <summary>
/// A silo's or client's certificate for the cluster's mutual TLS and the authorities it trusts, with the check every
/// remote certificate must pass: a chain to one of those authorities (not the machine's store), valid now, and an
/// extended key usage naming the remote's role. Silo certificates carry server authentication (they accept connections
/// and join as silos), client certificates only client authentication, so a client certificate can reach the gateway
/// but never join the cluster as a silo. Host names are not checked: the authority is the cluster's own.
/// </summary>
public sealed class ClusterCertificates : IDisposable
{
    /// <summary>Extended key usage of silos (and of every TLS server): 1.3.6.1.5.5.7.3.1.</summary>
    public const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>Extended key usage of clients: 1.3.6.1.5.5.7.3.2.</summary>
    public const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private ClusterCertificates(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        Certificate = certificate;
        Authorities = authorities;
    }

    /// <summary>This side's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The authorities remote certificates must chain to.</summary>
    public X509Certificate2Collection Authorities { get; }

    /// <summary>
    /// Loads the files <paramref name="options"/> name; a missing or unreadable file is <see cref="FlowErrorCode.BadArg"/>
    /// naming the setting (<paramref name="section"/> + the option).
    /// </summary>
    public static ClusterCertificates Load(ClusterTlsOptions options, string section)
    {
        ArgumentNullException.ThrowIfNull(options);
        var certificatePath = Required(options.CertificatePath, section, nameof(options.CertificatePath));
        var caCertificatePath = Required(options.CaCertificatePath, section, nameof(options.CaCertificatePath));
        X509Certificate2 certificate;
        try
        {
            certificate = string.IsNullOrWhiteSpace(options.PrivateKeyPath)
                ? X509CertificateLoader.LoadPkcs12FromFile(certificatePath, options.Password)
                : X509Certificate2.CreateFromPemFile(certificatePath, options.PrivateKeyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"{section}:{nameof(options.CertificatePath)} '{certificatePath}' (with its key) could not be loaded: {e.Message}", e);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new FlowException(FlowErrorCode.BadArg, $"{section}:{nameof(options.CertificatePath)} '{certificatePath}' has no private key.");
        }

        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caCertificatePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            certificate.Dispose();
            throw new FlowException(FlowErrorCode.BadArg, $"{section}:{nameof(options.CaCertificatePath)} '{caCertificatePath}' could not be loaded: {e.Message}", e);
        }

        if (authorities.Count == 0)
        {
            certificate.Dispose();
            throw new FlowException(FlowErrorCode.BadArg, $"{section}:{nameof(options.CaCertificatePath)} '{caCertificatePath}' holds no PEM certificate.");
        }

        return new ClusterCertificates(certificate, authorities);
    }

    /// <summary>
    /// True if <paramref name="remote"/> chains to one of <see cref="Authorities"/>, is valid now, and lists
    /// <paramref name="requiredUsage"/> among its extended key usages. Intermediates the peer sent
    /// (<paramref name="presented"/>) may complete the chain; the machine's trust store never does.
    /// </summary>
    public bool IsTrusted(X509Certificate2 remote, X509Chain? presented, string requiredUsage)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (!HasUsage(remote, requiredUsage))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(remote);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var authority in Authorities)
        {
            authority.Dispose();
        }
    }

    private static bool HasUsage(X509Certificate2 certificate, string usage)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension eku)
            {
                foreach (var oid in eku.EnhancedKeyUsages)
                {
                    if (oid.Value == usage)
                    {
                        return true;
                    }
                }
            }
        }

        // A certificate without the extension would serve every role; the cluster requires roles to be explicit.
        return false;
    }

    private static string Required(string? path, string section, string name) =>
        string.IsNullOrWhiteSpace(path) ? throw new FlowException(FlowErrorCode.BadArg, $"{section}:{name} is required for TLS.") : path;
}
