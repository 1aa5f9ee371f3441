using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Reliability.Handshakes;

/// <summary>
/// The principals of the handshake attacks, made once per test run: a root both real sides trust, a server and a
/// client it blessed (root:server, root:client), and for the trust attacks a stranger's root of the same name, and
/// blessings from the real root that have expired. Each real side requires the other's name from the trusted root.
/// </summary>
internal static class AttackIdentities
{
    public const string RootName = "root";
    public const string ServerPattern = "root:server";
    public const string ClientPattern = "root:client";

    private static readonly Principal Root = SelfBlessed(RootName);
    private static readonly Principal StrangerRoot = SelfBlessed(RootName);

    public static Principal Server { get; } = Blessed(Root, "server");

    public static Principal Client { get; } = Blessed(Root, "client");

    /// <summary>root:server, but from a root nobody here trusts.</summary>
    public static Principal ServerOfStranger { get; } = Blessed(StrangerRoot, "server");

    public static Principal ClientOfStranger { get; } = Blessed(StrangerRoot, "client");

    /// <summary>root:server from the trusted root, expired a day ago.</summary>
    public static Principal ServerExpired { get; } = Blessed(Root, "server", Caveat.Expiry(DateTimeOffset.UtcNow.AddDays(-1)));

    public static Principal ClientExpired { get; } = Blessed(Root, "client", Caveat.Expiry(DateTimeOffset.UtcNow.AddDays(-1)));

    /// <summary>A principal with a key of its own and no blessing from anyone: what an impostor signs with.</summary>
    public static Principal Impostor { get; } = SelfBlessed("impostor");

    private static Principal SelfBlessed(string name)
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf(name);
        return principal;
    }

    private static Principal Blessed(Principal root, string extension, Caveat? caveat = null)
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = root.Bless(principal.PublicKey, root.DefaultBlessings, extension, caveat ?? Caveat.Unconstrained);
        principal.Roots.Add(Root.PublicKey, new BlessingPattern(RootName));
        return principal;
    }
}
