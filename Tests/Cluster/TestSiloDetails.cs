using System.Net;

namespace FlowOrleans.Tests.Cluster;

/// <summary>The local silo's identity for parts of the flow transport built without a silo.</summary>
internal sealed class TestSiloDetails(SiloAddress siloAddress) : ILocalSiloDetails
{
    public TestSiloDetails()
        : this(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1))
    {
    }

    public string Name => "test-silo";

    public string ClusterId => "test";

    public string DnsHostName => "localhost";

    public SiloAddress SiloAddress { get; } = siloAddress;

    public SiloAddress GatewayAddress => SiloAddress;
}
