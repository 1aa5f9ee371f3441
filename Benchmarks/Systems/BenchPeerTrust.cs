using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Security;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// The outside peer the cluster benchmarks dial, and the trust the benchmark silos give it: they recognise its key as the
/// root of <see cref="Name"/> and accept and dial only peers blessed so, as a deployment names its peers (no
/// <c>AllowEveryone</c>), with the development policy that allows loopback.
/// </summary>
internal static class BenchPeerTrust
{
    public const string Name = "bench-outside-peer";

    public static Principal CreatePeerPrincipal()
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf(Name);
        return principal;
    }

    public static void Configure(FlowOrleansOptions options, Principal peer)
    {
        options.Listen.Add("tcp/127.0.0.1:0");
        options.Policy.Profile = PolicyProfile.Development;
        options.Trust.Roots.Add(new TrustedRoot { PublicKey = Convert.ToBase64String(peer.PublicKey.Bytes.Span), Pattern = Name });
        options.Trust.AcceptPatterns.Add(Name);
        options.Trust.DialPatterns.Add(Name);
    }
}
