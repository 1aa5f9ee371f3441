using FlowOrleans.GrainInterfaces.Security;

namespace FlowOrleans.Silo;

/// <summary>
/// The silo program's cluster TLS settings (<c>Silo:Tls</c>): the certificate files of <see cref="ClusterTlsOptions"/>,
/// and the development switch that lets a PostgreSQL cluster run without them.
/// </summary>
internal sealed class SiloTlsOptions
{
    public const string SectionName = SiloHostOptions.SectionName + ":Tls";

    /// <summary>PEM certificate (with <see cref="PrivateKeyPath"/>) or PKCS#12 file (with <see cref="Password"/>).</summary>
    public string? CertificatePath { get; set; }

    public string? PrivateKeyPath { get; set; }

    public string? Password { get; set; }

    /// <summary>PEM file of the authorities every silo and client certificate must chain to.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>
    /// Lets <c>Silo:Storage=PostgreSQL</c> start without certificates: cluster connections are then unauthenticated and
    /// unencrypted, and the silo says so loudly. Development only. Default false.
    /// </summary>
    public bool AllowPlaintext { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(CertificatePath);

    public ClusterTlsOptions ToCluster() => new() { CertificatePath = CertificatePath, PrivateKeyPath = PrivateKeyPath, Password = Password, CaCertificatePath = CaCertificatePath };
}
