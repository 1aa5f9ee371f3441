using FlowOrleans.GrainInterfaces.Security;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace FlowOrleans.Grains.Security;

/// <summary>
/// Mutual TLS for a silo's Orleans connections (<c>Microsoft.Orleans.Connections.Security</c>): every connection to the
/// silo port and the gateway, and every connection the silo opens to other silos, presents this silo's certificate and
/// requires one from the other side that <see cref="ClusterCertificates.IsTrusted"/> accepts. Peers on the silo port
/// and silos this silo dials must hold a silo certificate (server authentication); the gateway takes client
/// certificates (client authentication). Nothing without such a certificate gets past the TLS handshake.
/// </summary>
public static class FlowOrleansTlsExtensions
{
    public static ISiloBuilder UseFlowOrleansTls(this ISiloBuilder builder, ClusterCertificates certificates)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(certificates);
        var silos = Options(certificates, ClusterCertificates.ServerAuthentication);
        var clients = Options(certificates, ClusterCertificates.ClientAuthentication);
        return builder.Configure<SiloConnectionOptions>(connections =>
        {
            connections.ConfigureSiloInboundConnection(connection => connection.UseServerTls(silos));
            connections.ConfigureSiloOutboundConnection(connection => connection.UseClientTls(silos));
            connections.ConfigureGatewayInboundConnection(connection => connection.UseServerTls(clients));
        });
    }

    /// <summary>TLS that presents <paramref name="certificates"/>' certificate and requires a remote one for <paramref name="remoteUsage"/>.</summary>
    public static TlsOptions Options(ClusterCertificates certificates, string remoteUsage)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        return new TlsOptions
        {
            LocalCertificate = certificates.Certificate,
            RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
            ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
            RemoteCertificateValidation = (certificate, chain, _) => certificates.IsTrusted(certificate, chain, remoteUsage),
        };
    }
}
