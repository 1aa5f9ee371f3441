namespace FlowOrleans.GrainInterfaces.Security;

/// <summary>
/// Where a silo or client finds its certificate for the cluster's mutual TLS, all files (which is also how a Kubernetes
/// Secret arrives): a PEM certificate with a PEM key, or a PKCS#12 (PFX) file with its password, and the PEM file of the
/// certificate authorities every silo and client certificate must chain to. The Silo program binds it from <c>Silo:Tls</c>.
/// </summary>
public sealed class ClusterTlsOptions
{
    /// <summary>The certificate: PEM when <see cref="PrivateKeyPath"/> is set, otherwise PKCS#12 (PFX).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The certificate's private key (PEM, PKCS#8 or the key's own format); unset for a PFX.</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>The PFX's password; unset for none.</summary>
    public string? Password { get; set; }

    /// <summary>PEM file of the certificate authorities (one or more) that remote certificates must chain to.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>True once a certificate is named.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(CertificatePath);
}
