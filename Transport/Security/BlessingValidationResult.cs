namespace FlowOrleans.Transport.Security;

/// <summary>The outcome of <see cref="BlessingValidator.Validate"/>: the names a peer may use, and why the others were refused.</summary>
public sealed class BlessingValidationResult
{
    internal BlessingValidationResult(IReadOnlyList<string> acceptedNames, IReadOnlyList<RejectedBlessing> rejected)
    {
        AcceptedNames = acceptedNames;
        Rejected = rejected;
    }

    public IReadOnlyList<string> AcceptedNames { get; }

    public IReadOnlyList<RejectedBlessing> Rejected { get; }
}
