using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Security;
using Microsoft.Extensions.Configuration;

namespace FlowOrleans.Silo;

/// <summary>
/// What the single-node development silo (<c>Silo:Storage=Memory</c>) sets where configuration says nothing: any
/// authenticated peer is accepted and dialed (<c>FlowOrleans:Trust:AllowEveryone</c>), and clients may ask it to dial
/// and listen on loopback (<c>FlowOrleans:Policy:Profile=Development</c>). It also binds to loopback only, so only this
/// machine reaches it. The silo prints each of these when it starts (<see cref="StartBanner"/>); a PostgreSQL silo never
/// gets them unless configured.
/// </summary>
internal static class DevelopmentProfile
{
    public static void Apply(FlowOrleansOptions options, IConfiguration configuration, bool development)
    {
        if (!development)
        {
            return;
        }

        var trust = configuration.GetSection(FlowOrleansOptions.TrustSectionName);
        if (trust["AllowEveryone"] is null && !trust.GetSection("AcceptPatterns").GetChildren().Any())
        {
            options.Trust.AllowEveryone = true;
        }

        if (configuration[FlowOrleansOptions.PolicySectionName + ":Profile"] is null)
        {
            options.Policy.Profile = PolicyProfile.Development;
        }
    }
}
