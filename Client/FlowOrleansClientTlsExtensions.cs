using FlowOrleans.GrainInterfaces.Security;
using Orleans.Connections.Security;

namespace FlowOrleans.Client;

/// <summary>
/// Mutual TLS from an Orleans client to the cluster's gateways: the client presents its certificate (client
/// authentication) and accepts only a gateway whose certificate chains to the cluster's authorities as a silo's
/// (server authentication), whatever the machine's trust store says.
/// </summary>
public static class FlowOrleansClientTlsExtensions
{
    public static IClientBuilder UseFlowOrleansTls(this IClientBuilder builder, ClusterCertificates certificates)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(certificates);
        return builder.UseTls(certificates.Certificate, options =>
        {
            options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            options.RemoteCertificateValidation = (certificate, chain, _) =>
                certificates.IsTrusted(certificate, chain, ClusterCertificates.ServerAuthentication);
        });
    }
}
