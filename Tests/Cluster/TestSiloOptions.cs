using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Security;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// The settings test silos share: the development trust and policy the Silo program applies on memory storage (any
/// authenticated peer, loopback allowed), since the tests' peers are self-blessed managers on loopback.
/// </summary>
internal static class TestSiloOptions
{
    public static void Development(FlowOrleansOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Trust.AllowEveryone = true;
        options.Policy.Profile = PolicyProfile.Development;
    }
}
