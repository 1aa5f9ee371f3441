namespace FlowOrleans.Client;

/// <summary>How <see cref="FlowClient.DialAsync(Transport.Endpoints.Endpoint, FlowDialOptions, CancellationToken)"/> dials.</summary>
public sealed record FlowDialOptions
{
    /// <summary>
    /// Patterns the peer must present a valid blessing for (e.g. <c>acme:echo</c>); the silo refuses any other peer with
    /// <see cref="Transport.FlowErrorCode.NotTrusted"/>. Empty: the silo's configured default (<c>FlowOrleans:Trust:DialPatterns</c>).
    /// </summary>
    public IReadOnlyList<string> BlessingPatterns { get; init; } = [];

    /// <summary>The silo to dial through; null: a random active silo.</summary>
    public string? SiloKey { get; init; }

    /// <summary>Channel timeout of the connection; zero: the silo's default.</summary>
    public TimeSpan ChannelTimeout { get; init; }
}
